package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/models"
)

// CredentialChecker verifies presented credentials and records the use.
type CredentialChecker interface {
	Check(ctx context.Context, req credentials.VerifyRequest) credentials.Result
}

// resourceServers authenticates resource servers by their configured
// tokens, compared as SHA-256 digests in constant time.
type resourceServers struct {
	digests [][32]byte
}

func newResourceServers(tokens []string) *resourceServers {
	rs := &resourceServers{}
	for _, t := range tokens {
		rs.digests = append(rs.digests, sha256.Sum256([]byte(t)))
	}
	return rs
}

func (rs *resourceServers) require(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := bearerToken(c.Request())
		if tok == "" || len(rs.digests) == 0 {
			return errUnauthenticated
		}
		d := sha256.Sum256([]byte(tok))
		ok := 0
		for i := range rs.digests {
			ok |= subtle.ConstantTimeCompare(d[:], rs.digests[i][:])
		}
		if ok != 1 {
			return errUnauthenticated
		}
		return next(c)
	}
}

type verifyRequest struct {
	Credential string `json:"credential"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	IP         string `json:"ip"`
	UserAgent  string `json:"userAgent"`
}

type verifyResponse struct {
	Active       bool       `json:"active"`
	Reason       string     `json:"reason,omitempty"`
	Tenant       string     `json:"tenant,omitempty"`
	Principal    string     `json:"principal,omitempty"`
	CredentialID string     `json:"credentialId,omitempty"`
	Kind         string     `json:"kind,omitempty"`
	Scopes       []string   `json:"scopes,omitempty"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
}

const (
	maxVerifyPath      = 2048
	maxVerifyUserAgent = 512
)

func (r *verifyRequest) validate() error {
	v := &models.ValidationError{}
	if r.Credential == "" {
		v.Add("credential", "required")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		v.Add("method", "must be an upper-case HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)")
	}
	if r.Path == "" || r.Path[0] != '/' || len(r.Path) > maxVerifyPath || !printable(r.Path) {
		v.Add("path", "must be an absolute request path starting with / (at most 2048 printable characters)")
	}
	if r.IP != "" {
		if _, err := netip.ParseAddr(r.IP); err != nil {
			v.Add("ip", "must be an IPv4 or IPv6 address")
		}
	}
	// The user agent is informational: keep it, made safe to store and
	// show (valid UTF-8, no control characters, cut on a character).
	r.UserAgent = safeUserAgent(r.UserAgent)
	return v.Err()
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func safeUserAgent(ua string) string {
	if len(ua) <= maxVerifyUserAgent && printable(ua) {
		return ua
	}
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, ua)
	if len(ua) > maxVerifyUserAgent {
		cut := maxVerifyUserAgent
		for cut > 0 && !utf8.RuneStart(ua[cut]) {
			cut--
		}
		ua = ua[:cut]
	}
	return ua
}

// verify answers a resource server: 200 with the decision for any well-formed
// request, whether the credential is good or not.
func verify(checker CredentialChecker, metrics *Metrics) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req verifyRequest
		if err := bindVerify(c, &req); err != nil {
			return err
		}
		if err := req.validate(); err != nil {
			return err
		}
		r := checker.Check(c.Request().Context(), credentials.VerifyRequest{Secret: req.Credential, Method: req.Method, Path: req.Path, IP: req.IP, UserAgent: req.UserAgent})
		metrics.observeVerify(r.Active, r.Reason)
		resp := verifyResponse{Active: r.Active, Reason: r.Reason, Tenant: r.TenantID, Principal: r.OwnerAccountID, CredentialID: r.CredentialID, Kind: string(r.Kind), Scopes: r.Scopes}
		if !r.ExpiresAt.IsZero() {
			resp.ExpiresAt = &r.ExpiresAt
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return writeVerifyResponse(c, &resp)
	}
}
