package credentials

import "strings"

// loggedPath is the request target as the access log keeps it: the path as
// sent and the names of its query parameters, never their values. A query
// can carry secrets (access_token=, jwt=, signed URLs) that the log, the
// admin console and exports would otherwise show to every administrator.
// A fragment is dropped. Without a query the path is returned as is.
func loggedPath(target string) string {
	path, query, hasQuery := strings.Cut(target, "?")
	path, _, _ = strings.Cut(path, "#")
	if !hasQuery {
		return path
	}
	query, _, _ = strings.Cut(query, "#")
	var b strings.Builder
	b.Grow(len(path) + 1 + len(query))
	b.WriteString(path)
	b.WriteByte('?')
	for i, pair := range strings.Split(query, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		name, _, hasValue := strings.Cut(pair, "=")
		b.WriteString(name)
		if hasValue {
			b.WriteString("=…")
		}
	}
	return b.String()
}
