package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

var testKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env())
	if err != nil {
		t.Fatalf("Load with no variables: %v", err)
	}
	checks := map[string][2]any{
		"Addr":                  {c.Addr, ":8080"},
		"BaseURL":               {c.BaseURL, "http://localhost:8080"},
		"DatabaseURL":           {c.DatabaseURL, ""},
		"DataDir":               {c.DataDir, "./data"},
		"ConnectAppKey":         {c.ConnectAppKey, DefaultConnectAppKey},
		"ConnectInstallKeysURL": {c.ConnectInstallKeysURL, DefaultInstallKeysURL},
		"ForgeJWKSURL":          {c.ForgeJWKSURL, DefaultForgeJWKSURL},
		"JWTLeeway":             {c.JWTLeeway, 10 * time.Second},
		"LogFormat":             {c.LogFormat, "json"},
		"LogLevel":              {c.LogLevel, "info"},
		"BodyLimit":             {c.BodyLimit, "1M"},
		"AccessLog":             {c.AccessLog, true},
		"Scheduler":             {c.Scheduler, true},
		"Dev":                   {c.Dev, false},
		"UsesPostgres":          {c.UsesPostgres(), false},
		"SQLitePath":            {c.SQLitePath(), filepath.Join("data", "keyward.db")},
	}
	for name, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %v, want %v", name, v[0], v[1])
		}
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(env(
		"KEYWARD_ADDR", "127.0.0.1:9000", "KEYWARD_BASE_URL", "https://keyward.example.com/", "KEYWARD_DATABASE_URL", "postgres://u:p@db/k",
		"KEYWARD_ENCRYPTION_KEY", testKey, "KEYWARD_FORGE_APP_ID", "ari:cloud:ecosystem::app/abc", "KEYWARD_JWT_LEEWAY", "30s",
		"KEYWARD_LOG_FORMAT", "TEXT", "KEYWARD_VERIFY_TOKENS", " a , ,b ", "KEYWARD_ACCESS_LOG", "off", "KEYWARD_DEV", "1", "KEYWARD_BODY_LIMIT", "512K",
	))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://keyward.example.com" || !c.UsesPostgres() || c.LogFormat != "text" || c.JWTLeeway != 30*time.Second ||
		strings.Join(c.VerifyTokens, "|") != "a|b" || c.AccessLog || !c.Dev || c.BodyLimit != "512K" {
		t.Errorf("loaded %+v", c)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	cases := [][]string{
		{"KEYWARD_ADDR", "8080"},
		{"KEYWARD_BASE_URL", "keyward.example.com"},
		{"KEYWARD_BASE_URL", "http://keyward.example.com"},
		{"KEYWARD_BASE_URL", "https://keyward.example.com/?q=1"},
		{"KEYWARD_DATABASE_URL", "mysql://db/keyward"},
		{"KEYWARD_ENCRYPTION_KEY", "c2hvcnQ="},
		{"KEYWARD_ENCRYPTION_KEY", "not base64!"},
		{"KEYWARD_CONNECT_INSTALL_KEYS_URL", "/keys"},
		{"KEYWARD_FORGE_JWKS_URL", "ftp://jwks"},
		{"KEYWARD_FORGE_APP_ID", "my-app"},
		{"KEYWARD_JWT_LEEWAY", "1m"},
		{"KEYWARD_JWT_LEEWAY", "soon"},
		{"KEYWARD_JWT_LEEWAY", "-5s"},
		{"KEYWARD_LOG_FORMAT", "xml"},
		{"KEYWARD_LOG_LEVEL", "chatty"},
		{"KEYWARD_BODY_LIMIT", "lots"},
		{"KEYWARD_BODY_LIMIT", "-1M"},
		{"KEYWARD_SHUTDOWN_TIMEOUT", "later"},
		{"KEYWARD_ACCESS_LOG", "maybe"},
		{"KEYWARD_ACCESS_LOG_QUEUE", "10"},
		{"KEYWARD_USAGE_FLUSH_INTERVAL", "1m"},
		{"KEYWARD_REVOCATION_POLL", "0s"},
		{"KEYWARD_MAX_KEY_DAYS", "0"},
		{"KEYWARD_MAX_KEY_DAYS", "5001"},
		{"KEYWARD_SCHEDULER", "sometimes"},
		{"KEYWARD_DEV", "yes-please"},
	}
	for _, c := range cases {
		_, err := Load(env(c...))
		if err == nil || !strings.Contains(err.Error(), c[0]+":") {
			t.Errorf("%s=%q: err = %v, want one naming %s", c[0], c[1], err, c[0])
		}
	}

	// Every problem is reported at once.
	_, err := Load(env("KEYWARD_LOG_FORMAT", "xml", "KEYWARD_ADDR", "nope"))
	if err == nil || !strings.Contains(err.Error(), "KEYWARD_LOG_FORMAT") || !strings.Contains(err.Error(), "KEYWARD_ADDR") {
		t.Errorf("two bad variables: %v", err)
	}
	// PostgreSQL needs an explicit key; dev mode needs a loopback address.
	if _, err := Load(env("KEYWARD_DATABASE_URL", "postgres://db/k")); err == nil || !strings.Contains(err.Error(), "KEYWARD_ENCRYPTION_KEY") {
		t.Errorf("postgres without a key: %v", err)
	}
	if _, err := Load(env("KEYWARD_DEV", "true")); err == nil || !strings.Contains(err.Error(), "KEYWARD_DEV") {
		t.Errorf("dev on :8080: %v", err)
	}
	if _, err := Load(env("KEYWARD_BASE_URL", "http://127.0.0.1:8080")); err != nil {
		t.Errorf("http on loopback is allowed: %v", err)
	}
}

func TestDumpMasksSecrets(t *testing.T) {
	c, err := Load(env(
		"KEYWARD_DATABASE_URL", "postgres://keyward:db-pass-123@db.internal:5432/keyward?sslmode=require&password=other-pass-456",
		"KEYWARD_ENCRYPTION_KEY", testKey, "KEYWARD_VERIFY_TOKENS", "verify-token-1,verify-token-2",
	))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c.Dump(&out)
	dump := out.String()
	for _, secret := range []string{testKey, "db-pass-123", "other-pass-456", "verify-token-1", "verify-token-2"} {
		if strings.Contains(dump, secret) {
			t.Errorf("dump shows %q:\n%s", secret, dump)
		}
	}
	for _, want := range []string{"KEYWARD_ENCRYPTION_KEY=****** (set)", "KEYWARD_VERIFY_TOKENS=****** (set)", "keyward:xxxxx@db.internal:5432", "KEYWARD_ADDR=:8080"} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
	// Every variable appears exactly once.
	lines := strings.Split(strings.TrimSpace(dump), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "=")
		if seen[name] || !strings.HasPrefix(name, "KEYWARD_") {
			t.Errorf("line %q", l)
		}
		seen[name] = true
	}

	empty, _ := Load(env())
	out.Reset()
	empty.Dump(&out)
	if !strings.Contains(out.String(), "KEYWARD_ENCRYPTION_KEY=(unset)\n") || !strings.Contains(out.String(), "KEYWARD_DATABASE_URL=\n") {
		t.Errorf("unset secrets:\n%s", out.String())
	}
}

func TestResolveEncryptionKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := &Config{DataDir: dir}
	calls := 0
	gen := func() ([]byte, error) { calls++; return bytes.Repeat([]byte{byte(calls)}, 32), nil }

	k1, created, err := c.ResolveEncryptionKey(gen)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("first resolve = %x, %v, %v", k1, created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "encryption.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v", err, fi.Mode())
	}
	k2, created, err := c.ResolveEncryptionKey(gen)
	if err != nil || created || !bytes.Equal(k1, k2) || calls != 1 {
		t.Errorf("second resolve = %x, %v, %v (generated %d times)", k2, created, err, calls)
	}

	configured := &Config{DataDir: dir, EncryptionKey: testKey}
	k3, created, err := configured.ResolveEncryptionKey(gen)
	if err != nil || created || !bytes.Equal(k3, bytes.Repeat([]byte{7}, 32)) {
		t.Errorf("configured key = %x, %v, %v", k3, created, err)
	}

	if err := os.WriteFile(filepath.Join(dir, "encryption.key"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ResolveEncryptionKey(gen); err == nil || !strings.Contains(err.Error(), "encryption.key") {
		t.Errorf("corrupt key file: %v", err)
	}
	failing := &Config{DataDir: filepath.Join(t.TempDir(), "other")}
	boom := errors.New("no entropy")
	if _, _, err := failing.ResolveEncryptionKey(func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("generator error = %v", err)
	}
}

func TestDecodeKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := DecodeKey(enc.EncodeToString(raw)); err != nil || !bytes.Equal(k, raw) {
			t.Errorf("DecodeKey(%s) = %x, %v", enc.EncodeToString(raw), k, err)
		}
	}
	if _, err := DecodeKey(base64.StdEncoding.EncodeToString(raw[:16])); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

// TestLoadAddr: KEYWARD_ADDR is checked at load, port and host, so a wrong
// value stops every command with the variable named, not only serve's
// listen.
func TestLoadAddr(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
		want string // part of the error
	}{
		{":8080", true, ""},
		{"127.0.0.1:8080", true, ""},
		{"0.0.0.0:443", true, ""},
		{"[::1]:8080", true, ""},
		{"[::]:1", true, ""},
		{"[fe80::1%eth0]:8080", true, ""},
		{"localhost:65535", true, ""},
		{"keyward-1.internal.example.com:9090", true, ""},
		{"127.0.0.1:0", true, ""}, // the system picks a free port (tests use it)
		{":99999", false, "from 1 to 65535"},
		{":65536", false, "from 1 to 65535"},
		{":-1", false, "from 1 to 65535"},
		{":http", false, "from 1 to 65535"},
		{":", false, "from 1 to 65535"},
		{":08080", false, "from 1 to 65535"},
		{":+80", false, "from 1 to 65535"},
		{"127.0.0.1:80a", false, "from 1 to 65535"},
		{"8080", false, "host:port"},
		{"::1:8080", false, "host:port"},
		{"localhost", false, "host:port"},
		{"256.0.0.1:8080", false, "host"},
		{"127.0.0.1.1:8080", false, "host"},
		{"bad_host:8080", false, "host"},
		{"-lead.example.com:8080", false, "host"},
		{"a..b:8080", false, "host"},
		{"exa mple.com:8080", false, "host"},
		{"[::1%]:8080", false, "host"},
		{strings.Repeat("a", 64) + ".example.com:8080", false, "host"},
	}
	for _, c := range cases {
		_, err := Load(env("KEYWARD_ADDR", c.addr))
		switch {
		case c.ok && err != nil:
			t.Errorf("KEYWARD_ADDR=%q: %v", c.addr, err)
		case !c.ok && err == nil:
			t.Errorf("KEYWARD_ADDR=%q was accepted", c.addr)
		case !c.ok && (!strings.Contains(err.Error(), "KEYWARD_ADDR: ") || !strings.Contains(err.Error(), c.want)):
			t.Errorf("KEYWARD_ADDR=%q: %v, want an error naming KEYWARD_ADDR and %q", c.addr, err, c.want)
		}
	}
}

// TestBooleanSpellings: every accepted spelling works in any case, and the
// error for another value lists them all.
func TestBooleanSpellings(t *testing.T) {
	for v, want := range map[string]bool{"on": true, "true": true, "yes": true, "1": true, "ON": true, "Yes": true,
		"off": false, "false": false, "no": false, "0": false, "OFF": false, "No": false} {
		c, err := Load(env("KEYWARD_SCHEDULER", v))
		if err != nil {
			t.Errorf("KEYWARD_SCHEDULER=%q: %v", v, err)
		} else if c.Scheduler != want {
			t.Errorf("KEYWARD_SCHEDULER=%q = %v, want %v", v, c.Scheduler, want)
		}
	}
	_, err := Load(env("KEYWARD_SCHEDULER", "sometimes"))
	if err == nil {
		t.Fatal("KEYWARD_SCHEDULER=sometimes was accepted")
	}
	for _, s := range []string{"on/off", "true/false", "yes/no", "1/0"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("boolean error %q does not list %s", err, s)
		}
	}
}
