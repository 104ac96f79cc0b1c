package handlers_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
)

func TestZZExport(t *testing.T) {
	url := os.Getenv("ZZ_URL")
	if url == "" {
		t.Skip()
	}
	db, err := store.Open(context.Background(), store.Options{PostgresURL: url})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(os.Getenv("ZZ_KEY")))
	e := newInvEnv(t, db, true, key)
	for _, p := range strings.Split(os.Getenv("ZZ_PATHS"), ",") {
		req := httptest.NewRequest(http.MethodGet, p, nil)
		req.Header.Set("Authorization", e.token(devAdmin))
		w := &countingWriter{header: http.Header{}}
		t0 := time.Now()
		e.e.ServeHTTP(w, req)
		t.Logf("%s: %d lines %d bytes in %s", p, w.lines, w.bytes, time.Since(t0))
	}
}
