package auth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// outgoingClaims are the claims of an app-to-product Connect JWT.
type outgoingClaims struct {
	Issuer    string `json:"iss"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	QSH       string `json:"qsh"`
}

// SignOutgoing makes the HS256 JWT the app sends on a call to the product
// at u: iss is the app key, exp is now+ttl and qsh covers method, the path
// of u relative to baseURL (the installation's baseUrl) and u's query.
func SignOutgoing(appKey string, secret []byte, method string, u *url.URL, baseURL string, now time.Time, ttl time.Duration) (string, error) {
	switch {
	case appKey == "":
		return "", errors.New("sign outgoing: empty app key")
	case len(secret) == 0:
		return "", errors.New("sign outgoing: empty shared secret")
	case u == nil:
		return "", errors.New("sign outgoing: nil url")
	case ttl <= 0:
		return "", fmt.Errorf("sign outgoing: ttl %s must be positive", ttl)
	}
	claims := outgoingClaims{
		Issuer:    appKey,
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(ttl).Unix(),
		QSH:       QSH(method, RelativePath(baseURL, u.EscapedPath()), u.RawQuery),
	}
	h, _ := hmacHash("HS256")
	return encodeCompact(tokenHeader{Alg: "HS256", Typ: "JWT"}, claims, func(input []byte) ([]byte, error) {
		return hmacSign(h, secret, input), nil
	})
}

// RelativePath strips the path prefix of baseURL (e.g. "/wiki" for
// "https://x.atlassian.net/wiki") from the escaped path fullPath. The prefix
// is only removed at a segment boundary; a fullPath outside it, or an
// unparsable baseURL, leaves fullPath unchanged.
func RelativePath(baseURL, fullPath string) string {
	b, err := url.Parse(baseURL)
	if err != nil {
		return fullPath
	}
	prefix := strings.TrimSuffix(b.EscapedPath(), "/")
	if prefix == "" || !strings.HasPrefix(fullPath, prefix) {
		return fullPath
	}
	rest := fullPath[len(prefix):]
	if rest != "" && rest[0] != '/' {
		return fullPath
	}
	return rest
}
