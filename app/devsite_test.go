package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/config"
	"github.com/keyward/keyward/app/devmode"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
)

// TestSeedDemoThenDevMode seeds the dev site, leaves it alone on a second
// seed (a friendly no-op: the README seeds in several sections), then
// serves it in dev mode: /dev/admin's token opens the admin API.
func TestSeedDemoThenDevMode(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATA_DIR": dir, "KEYWARD_ADDR": "127.0.0.1:9191"}
	out, _, err := runCmd(t, env, "seed", "--demo", "--users", "30", "--keys", "120", "--access-log", "500")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, want := range []string{"users", "     32 (", "API keys", "    120 (", "access log", "    500 records",
		"KEYWARD_ADDR=127.0.0.1:9191 ", "http://127.0.0.1:9191/dev/admin"} {
		if !strings.Contains(out, want) {
			t.Errorf("seed output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "kwk_") {
		t.Errorf("seed printed something secret-shaped:\n%s", out)
	}
	m := regexp.MustCompile(`seeded site (\S+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("seed output names no site:\n%s", out)
	}
	devTenant := m[1]

	// Again, by default, by tenant id and by clientKey: nothing changes and
	// the command succeeds, saying how to start again.
	for _, args := range [][]string{{"seed", "--demo"}, {"seed", "--demo", "--tenant", devTenant}, {"seed", "--demo", "--tenant", devmode.ClientKey}} {
		out, _, err := runCmd(t, env, args...)
		if err != nil {
			t.Errorf("%v on a seeded dev site: %v", args, err)
			continue
		}
		for _, want := range []string{"already has demo data", devTenant, "nothing to do", "rm " + filepath.Join(dir, "keyward.db") + "*",
			"KEYWARD_ADDR=127.0.0.1:9191 ", "http://127.0.0.1:9191/dev/admin"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v output lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(out, "seeded site") {
			t.Errorf("%v seeded again:\n%s", args, out)
		}
	}
	if _, _, err := runCmd(t, env, "seed"); !errors.Is(err, errUsage) {
		t.Errorf("seed without --demo: %v", err)
	}
	if _, _, err := runCmd(t, env, "seed", "--demo", "--tenant", "no-such-site"); err == nil || !strings.Contains(err.Error(), `no site with tenant id "no-such-site"`) {
		t.Errorf("seed of an unknown site: %v", err)
	}
	delete(env, "KEYWARD_ADDR")

	env["KEYWARD_DEV"] = "1"
	s := startServe(t, env)
	if logs := s.logs.String(); !strings.Contains(logs, s.base+"/dev/admin") || !strings.Contains(logs, s.base+"/dev/me") {
		t.Errorf("no dev URLs in the startup log:\n%s", logs)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(s.base + "/dev/admin")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/ui/admin#token=") {
		t.Fatalf("/dev/admin: %d %q", res.StatusCode, loc)
	}
	tok, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/ui/admin#token="))
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/admin/v1/credentials?limit=5", nil)
	req.Header.Set("Authorization", "JWT "+tok)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var page struct {
		Items []json.RawMessage `json:"items"`
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Items) != 5 || page.Total.Value != 120 {
		t.Errorf("admin API with the dev token: %d %s", res.StatusCode, body)
	}
}

// TestSeedRefusesToSeedARealSiteTwice: only the local dev site makes a
// second seed a no-op; another site named by --tenant is still refused.
func TestSeedRefusesToSeedARealSiteTwice(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			env := cliEnv(t, dialect)
			installSite(t, env, "real-site")
			args := []string{"seed", "--demo", "--users", "5", "--keys", "10", "--access-log", "10", "--tenant", "real-site"}
			out, _, err := runCmd(t, env, args...)
			if err != nil || !strings.Contains(out, "seeded site") || strings.Contains(out, "/dev/admin") {
				t.Fatalf("first seed of a Connect site by clientKey = %q, %v", out, err)
			}
			if _, _, err := runCmd(t, env, args...); err == nil || !strings.Contains(err.Error(), "refusing to seed twice") {
				t.Errorf("second seed of a real site: %v", err)
			}
		})
	}
}

// cliEnv returns the environment of the commands for a fresh, migrated
// database of the dialect.
func cliEnv(t *testing.T, dialect string) map[string]string {
	t.Helper()
	env := map[string]string{"KEYWARD_DATA_DIR": t.TempDir()}
	if dialect == storetest.Postgres {
		env["KEYWARD_DATABASE_URL"] = storetest.PostgresURL(t)
		env["KEYWARD_ENCRYPTION_KEY"] = testKey
	}
	var err error
	storetest.SerializeMigrations(t, dialect, func() { _, _, err = runCmd(t, env, "migrate") })
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return env
}

// installSite installs a Connect site in the (migrated) database env points
// at, as its signed install would, and returns its tenant id.
func installSite(t *testing.T, env map[string]string, clientKey string) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _, err := cfg.ResolveEncryptionKey(seal.GenerateKey)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	tenantSvc := tenants.NewService(store.NewTenants(db), sealer, store.NewAudit(db), db, offboardtest.QuietLog(), 365)
	tn, err := tenantSvc.ConnectInstalled(ctx, tenants.InstallPayload{ClientKey: clientKey, SharedSecret: "shared-secret-of-" + clientKey + "-0123456789", BaseURL: "https://" + clientKey + ".atlassian.net"})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func TestDevServeAddr(t *testing.T) {
	for addr, want := range map[string]string{
		":8080": "127.0.0.1:8080", "127.0.0.1:9090": "127.0.0.1:9090", "[::1]:9000": "[::1]:9000",
		"localhost:7000": "localhost:7000", "0.0.0.0:9090": "127.0.0.1:9090", "127.0.0.1:0": "127.0.0.1:8080",
	} {
		if got := devServeAddr(&config.Config{Addr: addr}); got != want {
			t.Errorf("devServeAddr(%q) = %q, want %q", addr, got, want)
		}
	}
}
