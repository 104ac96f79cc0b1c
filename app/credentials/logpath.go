package credentials

import (
	"strings"

	"github.com/keyward/keyward/app/token"
)

// maxLoggedNameLen bounds a query parameter name that the log keeps.
const maxLoggedNameLen = 64

// loggedPath is the request target as the access log keeps it. A target
// can carry secrets (access_token=, jwt=, signed URLs, a bare key as the
// query, a path parameter) that the log, the admin console and exports
// would otherwise show to every administrator, so only what cannot be a
// value is kept:
//
//   - A fragment (from the first '#') is dropped.
//   - The path is kept up to its first ';'; anything after it is written
//     ";…".
//   - The query is split at '&'. A pair keeps its name only when the name
//     is a plain token ([A-Za-z0-9_.-], 1 to 64 bytes, not shaped like a
//     keyward secret) followed by '=', written "name=…"; any other
//     non-empty pair (no '=', an encoded '=', other bytes) is written "…".
//     Empty pairs stay empty.
//
// Without a query or ';' the path is returned as is (a substring, no
// allocation); otherwise the result is built with one allocation.
func loggedPath(target string) string {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	path, query, hasQuery := strings.Cut(target, "?")
	semi := strings.IndexByte(path, ';')
	if !hasQuery && semi < 0 {
		return path
	}
	size := len(path)
	if semi >= 0 {
		path = path[:semi]
		size = semi + len(";…")
	}
	if hasQuery {
		// Each pair grows by at most len("=…") ("a=" -> "a=…").
		size += 1 + len(query) + (strings.Count(query, "&")+1)*len("=…")
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(path)
	if semi >= 0 {
		b.WriteString(";…")
	}
	if !hasQuery {
		return b.String()
	}
	b.WriteByte('?')
	for first := true; ; first = false {
		pair, rest, more := strings.Cut(query, "&")
		if !first {
			b.WriteByte('&')
		}
		if name, _, hasValue := strings.Cut(pair, "="); hasValue && loggableName(name) {
			b.WriteString(name)
			b.WriteString("=…")
		} else if pair != "" {
			b.WriteString("…")
		}
		if !more {
			break
		}
		query = rest
	}
	return b.String()
}

// loggableName reports whether a query parameter name may be logged: a
// plain token of at most maxLoggedNameLen bytes that does not start like a
// keyward secret (a client that sends "?kwk_…=" must not log the key).
func loggableName(name string) bool {
	if name == "" || len(name) > maxLoggedNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	for k := token.Kind(1); k.Prefix() != ""; k++ {
		p := k.Prefix()
		if len(name) > len(p)+1 && name[len(p)] == '_' && strings.EqualFold(name[:len(p)], p) {
			return false
		}
	}
	return true
}
