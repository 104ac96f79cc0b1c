package jira

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

// attackClient is a client of a Connect site served by h.
func attackClient(t *testing.T, h http.HandlerFunc) (*Client, *models.Tenant) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	l := logrus.New()
	l.SetOutput(io.Discard)
	c := NewClient(srv.Client(), fixedSecret{}, "io.keyward.tempo-access", logrus.NewEntry(l))
	c.SetRetryPolicy(3, 20*time.Millisecond)
	return c, &models.Tenant{ID: "t1", ClientKey: "ck", BaseURL: srv.URL}
}

func attackIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("acc-%02d", i)
	}
	return out
}

// A 2xx that is not a page of users is an error, never "nobody exists".
func TestAttackRegression_BulkUsersRefusesBadAnswers(t *testing.T) {
	for _, body := range []string{
		`{}`, `null`, `{"values":null}`, `{"errorMessages":["Internal server error"]}`, `"ok"`, `[]`, `<html>oops</html>`, ``,
		`{"values":"x"}`, `{"values":{}}`, `{"values":[],"errorMessages":["x"]}`, `{"values":[],"errors":{"accountId":"bad"}}`,
		`{"values":[{"displayName":"no id","active":true}]}`, `{"values":[{"accountId":"acc-00"}]}`,
		`{"values":[{"accountId":"acc-00","active":"yes"}]}`,
	} {
		c, tn := attackClient(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
		got, err := c.BulkUsers(context.Background(), tn, attackIDs(3))
		if err == nil || !errors.Is(err, ErrBadAnswer) {
			t.Errorf("body %s: %v, %v; want ErrBadAnswer", body, got, err)
		}
	}
}

// sampleBulkAnswer is Jira's documented user/bulk answer (the shared
// reference testdata jira_user_bulk_response.json).
const sampleBulkAnswer = `{
  "self": "https://tenant-a.atlassian.net/rest/api/3/user/bulk?accountId=5b10ac8d82e05b22cc7d4ef5&accountId=5c2e1f0a93a4b7001234abcd&maxResults=90",
  "maxResults": 90,
  "startAt": 0,
  "total": 2,
  "isLast": true,
  "values": [
    { "accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian", "displayName": "Example Person", "active": false },
    { "accountId": "5c2e1f0a93a4b7001234abcd", "accountType": "app", "displayName": "Reporting bot", "active": true }
  ]
}`

// The documented answer shape reads as expected.
func TestAttackRegression_BulkUsersSampleAnswer(t *testing.T) {
	c, tn := attackClient(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sampleBulkAnswer) })
	got, err := c.BulkUsers(context.Background(), tn, []string{"5b10ac8d82e05b22cc7d4ef5", "5c2e1f0a93a4b7001234abcd", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["5b10ac8d82e05b22cc7d4ef5"].Active || !got["5c2e1f0a93a4b7001234abcd"].Active ||
		got["5c2e1f0a93a4b7001234abcd"].AccountType != "app" {
		t.Fatalf("users: %+v", got)
	}
}

// A well-formed answer is returned as it is, missing ids left out (the
// caller judges whether that many missing is believable); users Jira
// returns that were not asked for are not returned.
func TestAttackRegression_BulkUsersAnswerAsAsked(t *testing.T) {
	var answer atomic.Value
	c, tn := attackClient(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, answer.Load().(string)) })
	ctx := context.Background()

	answer.Store(`{"isLast":true,"values":[]}`)
	if got, err := c.BulkUsers(ctx, tn, attackIDs(20)); err != nil || len(got) != 0 {
		t.Errorf("none of 20: %v, %v", got, err)
	}
	answer.Store(`{"isLast":true,"values":[{"accountId":"stranger","active":true}]}`)
	if got, err := c.BulkUsers(ctx, tn, attackIDs(20)); err != nil || len(got) != 0 {
		t.Errorf("only a stranger: %v, %v", got, err)
	}
	answer.Store(`{"isLast":true,"values":[{"accountId":"acc-05","active":false}]}`)
	if got, err := c.BulkUsers(ctx, tn, attackIDs(20)); err != nil || len(got) != 1 || got["acc-05"].Active {
		t.Errorf("one of 20: %v, %v", got, err)
	}
}

// Pages are followed by isLast, else nextPage, else total; a non-last empty
// page is an error.
func TestAttackRegression_BulkUsersPages(t *testing.T) {
	c, tn := attackClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("startAt") {
		case "":
			io.WriteString(w, `{"nextPage":"https://x/rest/api/3/user/bulk?startAt=1","values":[{"accountId":"acc-00","active":true}]}`)
		case "1":
			io.WriteString(w, `{"isLast":false,"total":3,"values":[{"accountId":"acc-01","active":false}]}`)
		case "2":
			io.WriteString(w, `{"total":3,"values":[{"accountId":"acc-02","active":true}]}`)
		default:
			t.Errorf("startAt %s asked", r.URL.Query().Get("startAt"))
		}
	})
	got, err := c.BulkUsers(context.Background(), tn, attackIDs(12))
	if err != nil || len(got) != 3 || got["acc-01"].Active {
		t.Fatalf("pages: %v, %v", got, err)
	}

	c, tn = attackClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"isLast":false,"values":[]}`)
	})
	if got, err := c.BulkUsers(context.Background(), tn, attackIDs(3)); !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("empty non-last page: %v, %v", got, err)
	}
}

// A Retry-After past MaxRetryAfter (or past the caller's deadline) ends
// the call at once with an error naming the wait; a huge one does not
// overflow.
func TestAttackRegression_RetryAfterTooLong(t *testing.T) {
	for _, tc := range []struct {
		header  string
		timeout time.Duration
		want    string
	}{
		{"600", 0, "10m0s"},
		{"301", 0, "5m1s"},
		{"99999999999999", 0, "8760h0m0s"},
		{time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat), 0, "1h59m"},
		{"60", 2 * time.Second, "1m0s"},
	} {
		var calls atomic.Int64
		c, tn := attackClient(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", tc.header)
			w.Header().Set("RateLimit-Reason", "jira-burst-based")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		ctx := context.Background()
		if tc.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tc.timeout)
			defer cancel()
		}
		start := time.Now()
		_, err := c.BulkUsers(ctx, tn, attackIDs(1))
		var se *StatusError
		if !errors.Is(err, ErrRetryAfterTooLong) || !errors.As(err, &se) || se.Status != 429 || se.RateLimitReason != "jira-burst-based" ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("Retry-After %s: %v", tc.header, err)
		}
		if n := calls.Load(); n != 1 || time.Since(start) > time.Second {
			t.Errorf("Retry-After %s: %d calls in %s, want one at once", tc.header, n, time.Since(start))
		}
	}
}

// Retry-After: 0 is retried at once (with jitter), a bounded number of
// times; a 429 without Retry-After keeps the backoff limit.
func TestAttackRegression_RetryAfterZeroStillBounded(t *testing.T) {
	for _, header := range []string{"0", ""} {
		var calls atomic.Int64
		c, tn := attackClient(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if header != "" {
				w.Header().Set("Retry-After", header)
			}
			w.WriteHeader(http.StatusTooManyRequests)
		})
		start := time.Now()
		_, err := c.BulkUsers(context.Background(), tn, attackIDs(1))
		var se *StatusError
		if !errors.As(err, &se) || se.Status != 429 || errors.Is(err, ErrRetryAfterTooLong) {
			t.Errorf("Retry-After %q: %v", header, err)
		}
		if n := calls.Load(); n != 3 || time.Since(start) > 2*time.Second {
			t.Errorf("Retry-After %q: %d calls in %s", header, n, time.Since(start))
		}
	}
}

// CanBrowseUsers reads USER_PICKER from mypermissions; anything else is a
// bad answer, never a yes.
func TestCanBrowseUsers(t *testing.T) {
	for body, want := range map[string]string{
		`{"permissions":{"USER_PICKER":{"key":"USER_PICKER","havePermission":true}}}`:  "yes",
		`{"permissions":{"USER_PICKER":{"key":"USER_PICKER","havePermission":false}}}`: "no",
		`{"permissions":{}}`:                 "error",
		`{"permissions":{"USER_PICKER":{}}}`: "error",
		`{"errorMessages":["Unauthorized"]}`: "error",
		`<html>oops</html>`:                  "error",
	} {
		c, tn := attackClient(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/rest/api/3/mypermissions" || r.URL.Query().Get("permissions") != "USER_PICKER" {
				t.Errorf("asked %s", r.URL)
			}
			io.WriteString(w, body)
		})
		ok, err := c.CanBrowseUsers(context.Background(), tn)
		got := map[bool]string{true: "yes", false: "no"}[ok]
		if err != nil {
			got = "error"
			if !errors.Is(err, ErrBadAnswer) {
				t.Errorf("%s: %v, want ErrBadAnswer", body, err)
			}
		}
		if got != want {
			t.Errorf("%s: %s (%v), want %s", body, got, err, want)
		}
	}
}
