package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/models"
)

// bindJSON decodes a JSON body strictly: one object, unknown fields and
// wrong types reported as field errors.
func bindJSON(c echo.Context, dst any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(body, dst)
}

// requireJSON refuses a body declared as anything but JSON (no
// Content-Type is taken as JSON).
func requireJSON(c echo.Context) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), echo.MIMEApplicationJSON) {
		return models.Invalid("body", "Content-Type must be application/json")
	}
	return nil
}

// decodeStrict decodes body into dst as bindJSON does: one value, unknown
// fields and wrong types reported as field errors.
func decodeStrict(body []byte, dst any) error {
	// Every body is an object: null, an array or a bare value would decode
	// into the zero request and could be taken as "change nothing" or,
	// worse, "reset everything".
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return models.Invalid("body", "a JSON object is required")
	}
	if bytes.Contains(body, []byte(`\u0000`)) {
		return models.Invalid("body", "text must not contain NUL characters")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonFieldError(err)
	}
	if dec.More() {
		return models.Invalid("body", "only one JSON object is allowed")
	}
	return nil
}

// readBody reads the whole request body. A body over the size limit (also
// one sent without Content-Length) gives the limit middleware's 413.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, bodyError(err)
	}
	return body, nil
}

// bodyError maps a failed body read: the limit middleware's 413, or a 400.
func bodyError(err error) error {
	var tooLarge *echo.HTTPError
	if errors.As(err, &tooLarge) {
		return tooLarge
	}
	return models.Invalid("body", "could not read the request body")
}

func jsonFieldError(err error) error {
	var (
		typeErr *json.UnmarshalTypeError
		synErr  *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return models.Invalid(field, fmt.Sprintf("must be %s, not %s", jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value))
	case errors.As(err, &synErr):
		return models.Invalid("body", fmt.Sprintf("malformed JSON at byte %d", synErr.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return models.Invalid(shortField(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)), "unknown field")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return models.Invalid("body", "truncated JSON")
	default:
		return models.Invalid("body", "malformed JSON")
	}
}

// maxFieldName caps how much of an unknown field's name an error repeats
// (to the client and into the log): a name is the caller's input and may be
// anything, up to the body limit.
const maxFieldName = 64

func shortField(name string) string {
	if len(name) <= maxFieldName {
		return name
	}
	return strings.ToValidUTF8(name[:maxFieldName], "") + "…"
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of type " + kind
}
