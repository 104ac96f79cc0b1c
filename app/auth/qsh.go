package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// ContextQSH is the literal qsh claim of context tokens made by
// AP.context.getToken() in the Connect iframe.
const ContextQSH = "context-qsh"

// CanonicalRequest returns the Connect canonical request
// "METHOD&canonical-path&canonical-query" used for the qsh claim.
//
// path must already be relative to the app's (or product's) base URL, as
// sent on the wire (escaped); rawQuery is the query string without "?".
// The path keeps its encoding except that "&" becomes "%26"; an empty path
// becomes "/", a missing leading "/" is added and one trailing "/" is
// removed. Query parameters are decoded ("+" and "%20" mean space), "jwt"
// is dropped, names and values are re-encoded leaving only A-Za-z0-9-._~,
// the values of a repeated parameter are sorted and joined with ",", and
// parameters are sorted by encoded name.
func CanonicalRequest(method, path, rawQuery string) string {
	return strings.ToUpper(method) + "&" + canonicalPath(path) + "&" + canonicalQuery(rawQuery)
}

// QSH returns the lowercase hex SHA-256 of CanonicalRequest.
func QSH(method, path, rawQuery string) string {
	sum := sha256.Sum256([]byte(CanonicalRequest(method, path, rawQuery)))
	return hex.EncodeToString(sum[:])
}

func canonicalPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return strings.ReplaceAll(p, "&", "%26")
}

func canonicalQuery(rawQuery string) string {
	values := map[string][]string{}
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name = decodeComponent(name)
		if name == "jwt" {
			continue
		}
		values[name] = append(values[name], decodeComponent(value))
	}
	if len(values) == 0 {
		return ""
	}

	type param struct{ name, value string }
	params := make([]param, 0, len(values))
	for name, vs := range values {
		sort.Strings(vs)
		enc := make([]string, len(vs))
		for i, v := range vs {
			enc[i] = encodeComponent(v)
		}
		params = append(params, param{encodeComponent(name), strings.Join(enc, ",")})
	}
	sort.Slice(params, func(i, j int) bool { return params[i].name < params[j].name })

	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// decodeComponent decodes a query name or value leniently, like Node's
// querystring: "+" is a space, a valid %XX is its byte, and a "%" that does
// not start a valid escape is kept as is. Bytes that are not UTF-8 become
// U+FFFD, as the Node and Java reference libraries decode them.
func decodeComponent(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return wellFormedUTF8(s)
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return wellFormedUTF8(string(b))
}

// encodeComponent percent-encodes every byte outside A-Za-z0-9-._~ with
// upper-case hex (RFC 3986 unreserved set, as in OAuth 1).
func encodeComponent(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return string(b)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
