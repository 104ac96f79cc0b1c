package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store/storetest"
)

var testKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// runCmd runs one command to completion and returns stdout and stderr.
func runCmd(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, args, envOf(env), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestRunVersionHelpAndUnknown(t *testing.T) {
	out, _, err := runCmd(t, nil, "version")
	if err != nil || out != "keyward "+version+"\n" {
		t.Errorf("version = %q, %v", out, err)
	}
	out, _, err = runCmd(t, nil, "help")
	if err != nil || !strings.Contains(out, "migrate") || !strings.Contains(out, "KEYWARD_") {
		t.Errorf("help = %q, %v", out, err)
	}
	if _, _, err := runCmd(t, nil, "frobnicate"); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: %v, want errUsage", err)
	}
	if _, _, err := runCmd(t, nil, "manifest"); !errors.Is(err, errUsage) {
		t.Errorf("manifest without a kind: %v, want errUsage", err)
	}
}

func TestRunManifest(t *testing.T) {
	env := map[string]string{"KEYWARD_BASE_URL": "https://keyward.example.com", "KEYWARD_FORGE_APP_ID": "ari:cloud:ecosystem::app/3f9c2a1b-3333-4e5f-9a8b-7c6d5e4f3a2b"}
	out, _, err := runCmd(t, env, "manifest", "connect")
	var d struct{ BaseURL string }
	if err != nil || json.Unmarshal([]byte(out), &d) != nil || d.BaseURL != "https://keyward.example.com" {
		t.Errorf("manifest connect = %.200q, %v", out, err)
	}
	out, _, err = runCmd(t, env, "manifest", "forge")
	if err != nil || !strings.Contains(out, "https://keyward.example.com") || !strings.Contains(out, env["KEYWARD_FORGE_APP_ID"]) {
		t.Errorf("manifest forge = %.200q, %v", out, err)
	}
}

func TestRunConfigMasksSecrets(t *testing.T) {
	env := map[string]string{
		"KEYWARD_DATABASE_URL":   "postgres://keyward:hunter2-db-password@db.internal/keyward?sslmode=require",
		"KEYWARD_ENCRYPTION_KEY": testKey,
		"KEYWARD_VERIFY_TOKENS":  "resource-server-token",
	}
	out, _, err := runCmd(t, env, "config")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testKey, "hunter2-db-password", "resource-server-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("config prints %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "KEYWARD_DATABASE_URL=postgres://keyward:xxxxx@db.internal/keyward") || !strings.Contains(out, "KEYWARD_ENCRYPTION_KEY=****** (set)") {
		t.Errorf("config output:\n%s", out)
	}
}

func TestRunRefusesBadVariables(t *testing.T) {
	bad := map[string]string{
		"KEYWARD_LOG_FORMAT":   "xml",
		"KEYWARD_BODY_LIMIT":   "a lot",
		"KEYWARD_DATABASE_URL": "mysql://db/keyward",
		"KEYWARD_JWT_LEEWAY":   "5m",
	}
	for name, value := range bad {
		for _, cmd := range []string{"serve", "migrate", "config"} {
			env := map[string]string{name: value, "KEYWARD_DATA_DIR": t.TempDir(), "KEYWARD_ADDR": "127.0.0.1:0"}
			_, _, err := runCmd(t, env, cmd)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s with %s=%q: %v, want an error naming %s", cmd, name, value, err, name)
			}
		}
	}
}

// syncBuffer collects the server's log lines while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is `keyward serve` running in the background.
type server struct {
	base string
	logs *syncBuffer
	stop context.CancelFunc
	done chan error
}

// startServe runs serve on a free loopback port and waits until /healthz
// answers. The server is stopped when the test ends.
func startServe(t *testing.T, env map[string]string) *server {
	t.Helper()
	addr := freeAddr(t)
	env["KEYWARD_ADDR"] = addr
	env["KEYWARD_BASE_URL"] = "http://" + addr
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{base: "http://" + addr, logs: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, []string{"serve"}, envOf(env), io.Discard, s.logs) }()
	t.Cleanup(func() { s.shutdown(t) })

	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(s.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("serve stopped before answering: %v\nlogs:\n%s", err, s.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /healthz in time\nlogs:\n%s", s.logs)
		}
	}
}

// shutdown cancels the context and requires a clean, prompt return.
func (s *server) shutdown(t *testing.T) {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
		s.done <- err
	case <-time.After(20 * time.Second):
		t.Errorf("serve did not stop after its context was cancelled\nlogs:\n%s", s.logs)
	}
}

func (s *server) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	res, err := http.Get(s.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

func (s *server) wantReady(t *testing.T) {
	t.Helper()
	if code, body := s.get(t, "/readyz"); code != http.StatusOK || !strings.Contains(string(body), `"ready"`) {
		t.Errorf("readyz: %d %s", code, body)
	}
	code, body := s.get(t, "/atlassian-connect.json")
	var d struct {
		BaseURL string `json:"baseUrl"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &d) != nil || d.BaseURL != s.base {
		t.Errorf("descriptor: %d %.200s (want baseUrl %s)", code, body, s.base)
	}
	if code, body := s.get(t, "/no-such-route"); code != http.StatusNotFound || !strings.Contains(string(body), `"not_found"`) {
		t.Errorf("unknown route: %d %s", code, body)
	}
}

func TestServeOnEmbeddedSQLite(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, map[string]string{"KEYWARD_DATA_DIR": dir})
	s.wantReady(t)

	keyFile, err := os.ReadFile(filepath.Join(dir, "encryption.key"))
	if err != nil {
		t.Fatalf("no generated key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keyward.db")); err != nil {
		t.Errorf("no database file: %v", err)
	}
	s.shutdown(t)
	logs := s.logs.String()
	if !strings.Contains(logs, "generated a new encryption key") {
		t.Errorf("no warning about the generated key in:\n%s", logs)
	}
	if k := strings.TrimSpace(string(keyFile)); strings.Contains(logs, k) {
		t.Error("the generated key was logged")
	}
	if !strings.Contains(logs, "shutting down") {
		t.Errorf("no shutdown line in:\n%s", logs)
	}
}

func TestServeRefusesOutdatedPostgres(t *testing.T) {
	env := map[string]string{
		"KEYWARD_DATABASE_URL": storetest.PostgresURL(t), "KEYWARD_ENCRYPTION_KEY": testKey,
		"KEYWARD_ADDR": freeAddr(t), "KEYWARD_DATA_DIR": t.TempDir(),
	}
	_, _, err := runCmd(t, env, "serve")
	if err == nil || !strings.Contains(err.Error(), "outdated") || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("serve on an unmigrated schema: %v, want the outdated message", err)
	}
}

func TestMigrateThenServePostgres(t *testing.T) {
	env := map[string]string{
		"KEYWARD_DATABASE_URL": storetest.PostgresURL(t), "KEYWARD_ENCRYPTION_KEY": testKey, "KEYWARD_DATA_DIR": t.TempDir(),
	}
	var out string
	var err error
	storetest.SerializeMigrations(t, storetest.Postgres, func() { out, _, err = runCmd(t, env, "migrate") })
	if err != nil || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate = %q, %v", out, err)
	}
	storetest.SerializeMigrations(t, storetest.Postgres, func() { out, _, err = runCmd(t, env, "migrate") })
	if err != nil || !strings.Contains(out, "(0 applied)") {
		t.Errorf("second migrate = %q, %v; want nothing applied", out, err)
	}

	s := startServe(t, env)
	s.wantReady(t)
	s.shutdown(t)
	if strings.Contains(s.logs.String(), testKey) {
		t.Error("the encryption key was logged")
	}
}

func TestMigrateEmbeddedSQLite(t *testing.T) {
	env := map[string]string{"KEYWARD_DATA_DIR": t.TempDir()}
	out, _, err := runCmd(t, env, "migrate")
	if err != nil || !strings.Contains(out, "schema at version") || strings.Contains(out, "(0 applied)") {
		t.Fatalf("migrate = %q, %v", out, err)
	}
	out, _, err = runCmd(t, env, "migrate")
	if err != nil || !strings.Contains(out, "(0 applied)") {
		t.Errorf("second migrate = %q, %v", out, err)
	}
}
