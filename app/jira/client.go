// Package jira calls Jira Cloud's REST API on behalf of a tenant: Connect
// sites with an HS256 JWT signed by the shared secret, Forge sites with the
// stored app system token against app.apiBaseUrl. It honours rate limits
// (429 with Retry-After, including 0: the asked wait, up to MaxRetryAfter)
// and retries 5xx with bounded backoff.
package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/models"
)

// Credentials opens a tenant's secrets for outgoing calls.
type Credentials interface {
	// ConnectSecret returns the shared secret of a Connect site.
	ConnectSecret(ctx context.Context, t *models.Tenant) ([]byte, error)
	// ForgeSystemToken returns the newest Forge app system token.
	ForgeSystemToken(t *models.Tenant) (string, error)
}

// MaxRetryAfter is the longest Retry-After the client waits for. Jira
// asking for longer ends the call with ErrRetryAfterTooLong (the caller's
// run for that site stops with an error naming the wait) rather than
// holding a job for hours.
const MaxRetryAfter = 5 * time.Minute

// ErrRetryAfterTooLong means Jira answered 429 with a Retry-After longer
// than MaxRetryAfter, or longer than the caller's context allows.
var ErrRetryAfterTooLong = errors.New("retry-after too long")

// Client calls Jira for any tenant.
type Client struct {
	http        *http.Client
	creds       Credentials
	appKey      string
	log         *logrus.Entry
	maxAttempts int
	maxBackoff  time.Duration
	sleep       func(ctx context.Context, d time.Duration) error
}

// NewClient returns a client. appKey is the Connect app key (iss of
// outgoing JWTs).
func NewClient(httpClient *http.Client, creds Credentials, appKey string, log *logrus.Entry) *Client {
	return &Client{http: httpClient, creds: creds, appKey: appKey, log: log, maxAttempts: 5, maxBackoff: 30 * time.Second, sleep: sleepCtx}
}

// SetRetryPolicy changes the attempt count and the longest backoff between
// attempts after a 5xx, a network error or a 429 without Retry-After (tests
// use short ones). A Retry-After Jira sends is waited in full up to
// MaxRetryAfter whatever the backoff limit.
func (c *Client) SetRetryPolicy(maxAttempts int, maxBackoff time.Duration) {
	c.maxAttempts, c.maxBackoff = maxAttempts, maxBackoff
}

// StatusError is a non-2xx answer from Jira.
type StatusError struct {
	Status          int
	RateLimitReason string
	Body            string // first bytes of the body, for diagnostics
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("jira answered %d", e.Status)
	if e.RateLimitReason != "" {
		msg += " (" + e.RateLimitReason + ")"
	}
	return msg
}

// ErrNotConfigured means the tenant has no usable credentials for Jira.
var ErrNotConfigured = errors.New("tenant cannot call jira")

// Response is a successful answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request for the tenant. path is relative to the site (e.g.
// "/rest/api/3/user/bulk"); query and body may be nil. 429 and 5xx are
// retried up to the attempt limit, a 429 after the Retry-After Jira asks
// for (ErrRetryAfterTooLong, at once, when that is more than MaxRetryAfter
// or outlasts ctx); other non-2xx answers are returned at once as
// *StatusError.
func (c *Client) Do(ctx context.Context, t *models.Tenant, method, path string, query url.Values, body any) (*Response, error) {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode jira request: %w", err)
		}
		payload = b
	}
	var lastErr error
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		resp, err := c.once(ctx, t, method, path, query, payload)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		wait, retry := c.retryAfter(err, attempt)
		if !retry || attempt == c.maxAttempts {
			break
		}
		if err := waitAllowed(ctx, err, wait); err != nil {
			return nil, err
		}
		c.log.WithFields(logrus.Fields{"tenant": t.ID, "path": path, "attempt": attempt, "wait_ms": wait.Milliseconds()}).WithError(err).Warn("jira call will be retried")
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	return nil, lastErr
}

// retryAfter decides whether and how long to wait before another attempt.
// A 429's Retry-After is taken as Jira said it (waitAllowed bounds it); a
// 429 without one waits a second, at most the backoff limit.
func (c *Client) retryAfter(err error, attempt int) (time.Duration, bool) {
	var se *StatusError
	backoff := min(c.maxBackoff, time.Duration(1<<(attempt-1))*500*time.Millisecond)
	backoff = backoff/2 + rand.N(backoff/2+1)
	// A 429 unwraps to its *StatusError too: check it first.
	var re *retryAfterError
	if errors.As(err, &re) {
		if re.told {
			return re.wait, true
		}
		return min(re.wait, c.maxBackoff), true
	}
	if !errors.As(err, &se) {
		// Network errors are retried like 5xx.
		return backoff, !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrNotConfigured)
	}
	return backoff, se.Status >= 500
}

// waitAllowed refuses a Retry-After longer than MaxRetryAfter or than
// the time left before ctx's deadline: the call gives up at once with an
// error naming the wait instead of sleeping into it.
func waitAllowed(ctx context.Context, err error, wait time.Duration) error {
	var re *retryAfterError
	if !errors.As(err, &re) || !re.told {
		return nil
	}
	if re.asked > MaxRetryAfter {
		return fmt.Errorf("%w: jira asked to wait %s, more than %s: %w", ErrRetryAfterTooLong, re.asked, MaxRetryAfter, err)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return fmt.Errorf("%w: jira asked to wait %s, past the deadline of this call: %w", ErrRetryAfterTooLong, re.asked, err)
	}
	return nil
}

type retryAfterError struct {
	StatusError
	wait  time.Duration // what the client waits: the asked wait plus jitter
	asked time.Duration // what Jira asked for
	told  bool          // Jira sent a Retry-After the client could read
}

func (e *retryAfterError) Unwrap() error { return &e.StatusError }

func (c *Client) once(ctx context.Context, t *models.Tenant, method, path string, query url.Values, payload []byte) (*Response, error) {
	req, err := c.newRequest(ctx, t, method, path, query, payload)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jira %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read jira answer: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
	}
	se := StatusError{Status: resp.StatusCode, RateLimitReason: resp.Header.Get("RateLimit-Reason"), Body: string(body[:min(len(body), 200)])}
	if resp.StatusCode == http.StatusTooManyRequests {
		re := &retryAfterError{StatusError: se}
		re.asked, re.told = parseRetryAfter(resp.Header.Get("Retry-After"))
		// Retry-After: 0 still gets a little jitter, never a tight loop.
		re.wait = re.asked + time.Duration(rand.N(250))*time.Millisecond
		return nil, re
	}
	return nil, &se
}

func (c *Client) newRequest(ctx context.Context, t *models.Tenant, method, path string, query url.Values, payload []byte) (*http.Request, error) {
	var (
		base   string
		header string
	)
	switch {
	case t.IsForge() && t.APIBaseURL != "" && len(t.ForgeSystemTokenEnc) > 0:
		tok, err := c.creds.ForgeSystemToken(t)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotConfigured, err)
		}
		base, header = strings.TrimRight(t.APIBaseURL, "/"), "Bearer "+tok
	case t.IsConnect() && t.BaseURL != "":
		base = strings.TrimRight(t.BaseURL, "/")
	default:
		return nil, fmt.Errorf("tenant %s: %w", t.ID, ErrNotConfigured)
	}
	u, err := url.Parse(base + path)
	if err != nil {
		return nil, fmt.Errorf("jira url: %w", err)
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	if header == "" {
		secret, err := c.creds.ConnectSecret(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotConfigured, err)
		}
		jwt, err := auth.SignOutgoing(c.appKey, secret, method, u, base, time.Now(), 3*time.Minute)
		if err != nil {
			return nil, err
		}
		header = "JWT " + jwt
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", header)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "keyward")
	return req, nil
}

// maxRetryAfterHeader bounds the parsed Retry-After so that a huge value
// cannot overflow a time.Duration (anything past MaxRetryAfter is refused
// anyway).
const maxRetryAfterHeader = 365 * 24 * time.Hour

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
// told is false when there is none or it cannot be read; the wait is then
// one second.
func parseRetryAfter(v string) (wait time.Duration, told bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Second, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return time.Second, false
		}
		return time.Duration(min(n, int64(maxRetryAfterHeader/time.Second))) * time.Second, true
	}
	if when, err := http.ParseTime(v); err == nil {
		return min(max(0, time.Until(when)), maxRetryAfterHeader), true
	}
	return time.Second, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
