package manifest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

var params = Params{AppKey: "io.keyward.tempo-access", BaseURL: "https://keyward.example.com", ForgeAppID: "ari:cloud:ecosystem::app/3f9c2a1b-3333-4e5f-9a8b-7c6d5e4f3a2b"}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./manifest -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden; run `go test ./manifest -update` and review the diff", name)
	}
}

func TestConnectDescriptorGolden(t *testing.T) {
	got, err := Connect(params)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "atlassian-connect.golden.json", got)

	var d struct {
		BaseURL        string            `json:"baseUrl"`
		Authentication map[string]string `json:"authentication"`
		Lifecycle      map[string]string `json:"lifecycle"`
		APIMigrations  map[string]bool   `json:"apiMigrations"`
		Modules        struct {
			AdminPages []struct {
				Key        string `json:"key"`
				Conditions []struct {
					Condition string `json:"condition"`
				} `json:"conditions"`
			} `json:"adminPages"`
			Webhooks []struct{ Event, URL string } `json:"webhooks"`
		} `json:"modules"`
	}
	if err := json.Unmarshal(got, &d); err != nil {
		t.Fatal(err)
	}
	if d.BaseURL != params.BaseURL || d.Authentication["type"] != "jwt" {
		t.Errorf("baseUrl/auth wrong: %+v", d)
	}
	for _, k := range []string{"installed", "uninstalled", "enabled", "disabled"} {
		if d.Lifecycle[k] != "/lifecycle/"+k {
			t.Errorf("lifecycle %s = %q", k, d.Lifecycle[k])
		}
	}
	for _, k := range []string{"signed-install", "context-qsh", "gdpr"} {
		if !d.APIMigrations[k] {
			t.Errorf("apiMigrations %s not true", k)
		}
	}
	if len(d.Modules.AdminPages) != 1 || d.Modules.AdminPages[0].Conditions[0].Condition != "user_is_admin" {
		t.Errorf("admin page wrong: %+v", d.Modules.AdminPages)
	}
	events := map[string]bool{}
	for _, w := range d.Modules.Webhooks {
		events[w.Event] = w.URL == "/webhooks/jira/user"
	}
	for _, e := range []string{"user_created", "user_updated", "user_deleted"} {
		if !events[e] {
			t.Errorf("webhook %s missing", e)
		}
	}
}

func TestConnectDescriptorEscapesValues(t *testing.T) {
	got, err := Connect(Params{AppKey: `evil","x":"`, BaseURL: "https://a.example"})
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(got, &d); err != nil || d["key"] != `evil","x":"` {
		t.Fatalf("key not escaped: %v %v", d["key"], err)
	}
}

func TestForgeManifestGolden(t *testing.T) {
	got, err := Forge(params)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "manifest.golden.yml", got)
	for _, want := range []string{"avi:forge:installed:app", "avi:forge:upgraded:app", "avi:jira:updated:user", "avi:jira:deleted:user", "scheduledTrigger", "jira:adminPage", "baseUrl: https://keyward.example.com"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("forge manifest lacks %q", want)
		}
	}
}
