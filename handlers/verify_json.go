package handlers

import (
	"bytes"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// The JSON of POST /v1/verify, the hot path of the product. Both fast paths
// handle only the plain shape resource servers send and receive (ASCII
// strings without escapes) and hand everything else to encoding/json, so
// requests and answers are byte for byte those of decodeStrict and c.JSON
// (differential tests in verify_json_test.go).

// verifyBuffers holds request and response buffers between requests.
var verifyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps an occasional huge body from staying in the pool.
const maxPooledBuffer = 64 << 10

func putVerifyBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		b.Reset()
		verifyBuffers.Put(b)
	}
}

// bindVerify decodes a /v1/verify body exactly as bindJSON would.
func bindVerify(c echo.Context, r *verifyRequest) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	b := verifyBuffers.Get().(*bytes.Buffer)
	defer putVerifyBuffer(b)
	if _, err := b.ReadFrom(c.Request().Body); err != nil {
		return bodyError(err)
	}
	if decodeVerifyFast(b.Bytes(), r) {
		return nil
	}
	*r = verifyRequest{}
	return decodeStrict(b.Bytes(), r)
}

// decodeVerifyFast decodes a flat object of the known fields with plain
// string values: printable ASCII without escapes, each field at most once,
// only whitespace around. It reports false, leaving r partly set, for
// anything else.
func decodeVerifyFast(b []byte, r *verifyRequest) bool {
	var seen [5]bool
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		value, next, ok := plainString(b, skipSpace(b, i+1))
		if !ok {
			return false
		}
		var field *string
		var n int
		switch string(key) {
		case "credential":
			field, n = &r.Credential, 0
		case "method":
			field, n = &r.Method, 1
		case "path":
			field, n = &r.Path, 2
		case "ip":
			field, n = &r.IP, 3
		case "userAgent":
			field, n = &r.UserAgent, 4
		default:
			return false
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		*field = string(value)
		i = skipSpace(b, next)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] whose content needs no decoding,
// returning the content and the index after the closing quote.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// writeVerifyResponse writes resp as c.JSON(200, resp) would, without
// reflection when every string is plain.
func writeVerifyResponse(c echo.Context, resp *verifyResponse) error {
	if c.Echo().Debug || c.Request().URL.RawQuery != "" && c.QueryParams().Has("pretty") {
		return c.JSON(http.StatusOK, resp) // indented
	}
	b := verifyBuffers.Get().(*bytes.Buffer)
	defer putVerifyBuffer(b)
	out, ok := appendVerifyResponse(b.AvailableBuffer(), resp)
	if !ok {
		return c.JSON(http.StatusOK, resp)
	}
	b.Write(out) // keeps the grown buffer for the next response
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b.Bytes())
}

// appendVerifyResponse appends what json.NewEncoder(w).Encode(resp) writes,
// newline included. It reports false when a string would need escaping or
// the expiry has no RFC 3339 form.
func appendVerifyResponse(b []byte, resp *verifyResponse) ([]byte, bool) {
	ok := true
	str := func(name, v string, omitEmpty bool) {
		if v == "" && omitEmpty {
			return
		}
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b, ok = appendPlain(b, v, ok)
	}
	b = append(b, `{"active":`...)
	if resp.Active {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	str("reason", resp.Reason, true)
	str("tenant", resp.Tenant, true)
	str("principal", resp.Principal, true)
	str("credentialId", resp.CredentialID, true)
	str("kind", resp.Kind, true)
	if len(resp.Scopes) > 0 {
		b = append(b, `,"scopes":[`...)
		for i, s := range resp.Scopes {
			if i > 0 {
				b = append(b, ',')
			}
			b, ok = appendPlain(b, s, ok)
		}
		b = append(b, ']')
	}
	if resp.ExpiresAt != nil {
		if y := resp.ExpiresAt.Year(); y < 0 || y > 9999 {
			return b, false
		}
		b = append(b, `,"expiresAt":"`...)
		b = resp.ExpiresAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, '}', '\n')
	return b, ok
}

// appendPlain appends s as a JSON string when encoding/json would write it
// unchanged (printable ASCII other than '"', '\\' and the HTML characters
// it escapes); otherwise ok becomes false.
func appendPlain(b []byte, s string, ok bool) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			ok = false
			break
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), ok
}
