package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSeedDemoThenDevMode seeds the dev site, refuses a second seed, then
// serves it in dev mode: /dev/admin's token opens the admin API.
func TestSeedDemoThenDevMode(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATA_DIR": dir}
	out, _, err := runCmd(t, env, "seed", "--demo", "--users", "30", "--keys", "120", "--access-log", "500")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, want := range []string{"users", "     32 (", "API keys", "    120 (", "access log", "    500 records"} {
		if !strings.Contains(out, want) {
			t.Errorf("seed output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "kwk_") {
		t.Errorf("seed printed something secret-shaped:\n%s", out)
	}
	if _, _, err := runCmd(t, env, "seed", "--demo"); err == nil || !strings.Contains(err.Error(), "refusing to seed twice") {
		t.Errorf("second seed: %v", err)
	}
	if _, _, err := runCmd(t, env, "seed"); !errors.Is(err, errUsage) {
		t.Errorf("seed without --demo: %v", err)
	}

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
