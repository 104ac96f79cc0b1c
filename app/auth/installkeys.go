package auth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

const (
	// installKeyTimeout bounds one key fetch.
	installKeyTimeout = 10 * time.Second
	// maxInstallKeyBytes bounds the PEM document we read.
	maxInstallKeyBytes = 64 << 10
	// maxKidLen bounds a kid before it goes into a URL.
	maxKidLen = 256
	// minRSABits refuses toy keys.
	minRSABits = 2048
	// KeyFetchRetryAfter is the wait to announce (Retry-After) with a
	// refusal for ErrKeyFetchBusy: long enough for the fetch budget to
	// refill (its whole burst takes 4 s) and for fetches in flight to end
	// in the common case.
	KeyFetchRetryAfter = 5 * time.Second
)

// ErrKeyFetchBusy means the key for a token's kid is not cached and may not
// be fetched right now: the process-wide fetch budget is spent (anyone can
// spend it with made-up kids) or too many fetches are in flight. Nothing is
// known about the token; the refusal is temporary and the caller should
// answer 503 with Retry-After (KeyFetchRetryAfter), so that Atlassian or
// the admin retries, rather than a refusal of the token.
var ErrKeyFetchBusy = errors.New("install key fetch busy, try again later")

// InstallKeyFetcher fetches the PEM public keys that sign Connect install
// and uninstall tokens from {BaseURL}/{kid} and caches them per kid.
//
// Install tokens arrive unauthenticated, so their kid is the caller's
// choice. A kid the server does not know (or serves no usable key for) is
// remembered for a minute, other failures for 10 s; parallel requests for
// one kid share one fetch; fetches of uncached kids are rate-limited
// process-wide (a burst of 20, then 5 per second) and at most 4 run at
// once. A kid never seen before is fetched at once while that budget
// lasts; beyond it, Key fails with ErrKeyFetchBusy (temporary, not
// remembered). It is safe for concurrent use.
type InstallKeyFetcher struct {
	BaseURL string // e.g. https://connect-install-keys.atlassian.com
	Client  *http.Client

	now    func() time.Time // nil means time.Now (tests set it)
	cache  installKeyCache
	flight singleflight.Group
}

// NewInstallKeyFetcher returns a fetcher for baseURL; a nil client gets a
// default one with a bounded timeout.
func NewInstallKeyFetcher(baseURL string, client *http.Client) *InstallKeyFetcher {
	if client == nil {
		client = &http.Client{Timeout: installKeyTimeout}
	}
	return &InstallKeyFetcher{
		BaseURL: strings.TrimSuffix(baseURL, "/"),
		Client:  client,
	}
}

// Key returns the RSA public key for kid, fetching it on first use. An
// unknown kid (404) gives ErrUnknownKey, also while that answer is cached.
// An uncached kid that may not be fetched now gives ErrKeyFetchBusy.
func (f *InstallKeyFetcher) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if !validKid(kid) {
		return nil, fmt.Errorf("invalid kid %.64q: %w", kid, ErrUnknownKey)
	}
	if key, cached, err := f.cache.lookup(kid, f.clock()); cached {
		return key, err
	}
	// The shared fetch outlives a caller that gives up: its result serves
	// the others and the cache.
	detached := context.WithoutCancel(ctx)
	ch := f.flight.DoChan(kid, func() (any, error) { return f.load(detached, kid) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*rsa.PublicKey), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("install key %q: %w", kid, ctx.Err())
	}
}

// load fetches kid once the cache and the fetch budget allow it, and
// caches the outcome.
func (f *InstallKeyFetcher) load(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	now := f.clock()
	// A flight for kid that just ended may have filled the cache.
	if key, cached, err := f.cache.lookup(kid, now); cached {
		return key, err
	}
	if err := f.cache.startFetch(now); err != nil {
		return nil, fmt.Errorf("install key %q: %w", kid, err) // not remembered
	}
	key, err := f.fetch(ctx, kid) // bounded by installKeyTimeout
	f.cache.endFetch()
	if err != nil {
		f.cache.putMiss(kid, err, f.clock())
		return nil, err
	}
	f.cache.putKey(kid, key)
	return key, nil
}

func (f *InstallKeyFetcher) clock() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}

func (f *InstallKeyFetcher) fetch(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, installKeyTimeout)
	defer cancel()
	u := strings.TrimSuffix(f.BaseURL, "/") + "/" + kid
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("install key request: %w", err)
	}
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: installKeyTimeout}
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch install key %q: %w", kid, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("install key %q: status %d: %w", kid, res.StatusCode, ErrUnknownKey)
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch install key %q: status %d", kid, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxInstallKeyBytes))
	if err != nil {
		return nil, fmt.Errorf("read install key %q: %w", kid, err)
	}
	key, err := parseRSAPublicKeyPEM(body)
	if err != nil {
		return nil, fmt.Errorf("install key %q: %w: %w", kid, errUnusableInstallKey, err)
	}
	return key, nil
}

// validKid accepts ^[A-Za-z0-9._-]+$ of bounded length, and refuses kids
// made only of dots ("." and ".." would walk the URL path).
func validKid(kid string) bool {
	if kid == "" || len(kid) > maxKidLen || strings.Trim(kid, ".") == "" {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseRSAPublicKeyPEM reads a "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY"
// (PKCS #1) PEM block holding an RSA key of at least 2048 bits.
func parseRSAPublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key *rsa.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, want RSA", k)
		}
		key = rk
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		key = k
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("rsa key has %d bits, want at least %d", key.N.BitLen(), minRSABits)
	}
	return key, nil
}
