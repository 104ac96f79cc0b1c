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
	"sync"
	"time"
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
)

// InstallKeyFetcher fetches the PEM public keys that sign Connect install
// and uninstall tokens from {BaseURL}/{kid} and caches them per kid.
// Failures are never cached. It is safe for concurrent use.
type InstallKeyFetcher struct {
	BaseURL string // e.g. https://connect-install-keys.atlassian.com
	Client  *http.Client

	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
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
		keys:    map[string]*rsa.PublicKey{},
	}
}

// Key returns the RSA public key for kid, fetching it on first use. An
// unknown kid (404) gives ErrUnknownKey.
func (f *InstallKeyFetcher) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if !validKid(kid) {
		return nil, fmt.Errorf("invalid kid %.64q: %w", kid, ErrUnknownKey)
	}
	f.mu.Lock()
	key, ok := f.keys[kid]
	f.mu.Unlock()
	if ok {
		return key, nil
	}
	key, err := f.fetch(ctx, kid)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.keys == nil {
		f.keys = map[string]*rsa.PublicKey{}
	}
	f.keys[kid] = key
	f.mu.Unlock()
	return key, nil
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
		return nil, fmt.Errorf("install key %q: %w", kid, err)
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
