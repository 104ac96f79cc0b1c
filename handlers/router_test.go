package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/store/storetest"
)

func TestHealthAndDescriptor(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		rec := e.do(http.MethodGet, "/healthz", nil)
		if rec.Code != http.StatusOK || decode(t, rec)["status"] != "ok" {
			t.Errorf("healthz: %d %s", rec.Code, rec.Body)
		}
		if rec.Header().Get(echo.HeaderXRequestID) == "" {
			t.Error("no X-Request-Id on the response")
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Error("no X-Content-Type-Options: nosniff")
		}
		rec = e.do(http.MethodGet, "/readyz", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ready"`) {
			t.Errorf("readyz: %d %s", rec.Code, rec.Body)
		}
		rec = e.do(http.MethodGet, "/atlassian-connect.json", nil)
		var d struct {
			BaseURL string `json:"baseUrl"`
			Key     string `json:"key"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &d) != nil || d.BaseURL != appBaseURL || d.Key != appKey {
			t.Errorf("descriptor: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestReadyzOnOutdatedSchema serves a database without migrations.
func TestReadyzOnOutdatedSchema(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, storetest.OpenEmpty(t, d))
			rec := e.do(http.MethodGet, "/readyz", nil)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"outdated"`) {
				t.Errorf("readyz on an empty database: %d %s", rec.Code, rec.Body)
			}
			if rec := e.do(http.MethodGet, "/healthz", nil); rec.Code != http.StatusOK {
				t.Errorf("healthz: %d", rec.Code)
			}
		})
	}
}

func TestErrorResponses(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	p := installPayload(t, "", "")
	tok := installToken(t, "kid-1", rsaKey(t, 0), p["clientKey"].(string), "/lifecycle/installed", nil)

	wantError(t, "unknown route", e.do(http.MethodGet, "/no/such/route", nil), http.StatusNotFound, "not_found")
	wantError(t, "unknown route under a prefix", e.do(http.MethodGet, "/apix/nothing", nil), http.StatusNotFound, "not_found")

	big := bytes.Repeat([]byte("x"), bodyLimit+1)
	wantError(t, "body over the limit", e.do(http.MethodPost, "/lifecycle/installed", big, jwtHeader(tok)...), http.StatusRequestEntityTooLarge, "body_too_large")

	// Without a Content-Length the limit trips while reading.
	req := httptest.NewRequest(http.MethodPost, "/lifecycle/installed", io.NopCloser(bytes.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "JWT "+tok)
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, req)
	wantError(t, "chunked body over the limit", rec, http.StatusRequestEntityTooLarge, "body_too_large")

	// Bad input gets 400 with the field named.
	fields := func(rec *httptest.ResponseRecorder) string {
		var b struct {
			Error struct {
				Fields []struct{ Field, Message string }
			}
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		var out []string
		for _, f := range b.Error.Fields {
			out = append(out, f.Field)
		}
		return strings.Join(out, ",")
	}
	rec = e.do(http.MethodPost, "/lifecycle/installed", []byte(`{"clientKey": 42}`), jwtHeader(tok)...)
	if wantError(t, "clientKey of the wrong type", rec, http.StatusBadRequest, "invalid_input"); fields(rec) != "clientKey" {
		t.Errorf("fields = %q, want clientKey (%s)", fields(rec), rec.Body)
	}
	rec = e.do(http.MethodPost, "/lifecycle/installed", []byte(`{"sharedSecret":"x"}`), jwtHeader(tok)...)
	if wantError(t, "no clientKey", rec, http.StatusBadRequest, "invalid_input"); fields(rec) != "clientKey" {
		t.Errorf("fields = %q, want clientKey (%s)", fields(rec), rec.Body)
	}
	// A signed install whose body lacks the secret is refused as input.
	p["sharedSecret"] = "short"
	rec = e.do(http.MethodPost, "/lifecycle/installed", mustJSON(t, p), jwtHeader(tok)...)
	if wantError(t, "short secret", rec, http.StatusBadRequest, "invalid_input"); fields(rec) != "sharedSecret" {
		t.Errorf("fields = %q, want sharedSecret (%s)", fields(rec), rec.Body)
	}
	if strings.Contains(rec.Body.String(), `"short"`) {
		t.Errorf("error echoes the secret: %s", rec.Body)
	}
	wantError(t, "malformed JSON", e.do(http.MethodPost, "/lifecycle/installed", []byte(`{"clientKey":`), jwtHeader(tok)...), http.StatusBadRequest, "invalid_input")
}
