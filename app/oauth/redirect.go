package oauth

import (
	"net"
	"net/url"
	"strings"

	"github.com/keyward/keyward/models"
)

// maxRedirectURILength bounds a registered or presented redirect_uri.
const maxRedirectURILength = 2000

// checkRedirectURI tells what is wrong with a redirect URI an admin
// registers, or "" when it is acceptable: absolute, no fragment, no user
// info; https, or http only for a loopback host, or (public native apps
// only, RFC 8252) a private-use scheme with a dot such as com.example.app.
func checkRedirectURI(raw string, typ models.OAuthClientType) string {
	if raw == "" || len(raw) > maxRedirectURILength {
		return "must be an absolute URI of at most 2000 characters"
	}
	if strings.ContainsAny(raw, " \t\r\n\\") {
		return "must not contain spaces or backslashes"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "must be an absolute URI"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not contain a fragment"
	}
	if u.User != nil {
		return "must not contain user information"
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return "must name a host"
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return "http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https"
		}
	default:
		if typ != models.OAuthPublic || !strings.Contains(u.Scheme, ".") {
			return "must use https (http for loopback; private-use schemes like com.example.app:/cb for public apps only)"
		}
	}
	return ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// matchRedirectURI reports whether a presented redirect_uri is one of the
// client's registered URIs: exactly, or for public clients with a
// registered http://127.0.0.1/… or http://[::1]/… URI, with any port
// (RFC 8252 section 7.3).
func matchRedirectURI(c *models.OAuthClient, presented string) bool {
	for _, r := range c.RedirectURIs {
		if r == presented {
			return true
		}
	}
	if c.Type != models.OAuthPublic {
		return false
	}
	p, err := url.Parse(presented)
	if err != nil || p.Scheme != "http" || p.User != nil || p.Fragment != "" || strings.Contains(presented, "#") || !isLoopbackIP(p.Hostname()) {
		return false
	}
	if port := p.Port(); port != "" && !allDigits(port) {
		return false
	}
	for _, raw := range c.RedirectURIs {
		r, err := url.Parse(raw)
		if err != nil || r.Scheme != "http" || !isLoopbackIP(r.Hostname()) {
			continue
		}
		if r.Hostname() == p.Hostname() && r.EscapedPath() == p.EscapedPath() && r.RawQuery == p.RawQuery {
			return true
		}
	}
	return false
}

// isLoopbackIP accepts the loopback IP literals of RFC 8252, not names.
func isLoopbackIP(host string) bool { return host == "127.0.0.1" || host == "::1" }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) <= 5
}

// withParams returns the redirect URI with params added to its query,
// keeping the query it already has.
func withParams(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Set(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
