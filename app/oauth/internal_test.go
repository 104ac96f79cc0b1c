package oauth

import (
	"testing"

	"github.com/keyward/keyward/models"
)

// TestPKCEAppendixB is the example of RFC 7636 Appendix B.
func TestPKCEAppendixB(t *testing.T) {
	const v, want = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := S256Challenge(v); got != want {
		t.Fatalf("S256Challenge = %q, want %q", got, want)
	}
	if !validS256Challenge(want) || !verifyPKCE(want, v) {
		t.Fatal("the RFC vector does not verify")
	}
	for _, bad := range []string{"", v[:42], v + "!", v[1:] + "A", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"} {
		if verifyPKCE(want, bad) {
			t.Errorf("verifier %q accepted", bad)
		}
	}
	if validS256Challenge(want[:42]) || validS256Challenge(want+"A") || validS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM") {
		t.Error("malformed challenge accepted")
	}
}

func TestRedirectURIMatching(t *testing.T) {
	public := &models.OAuthClient{Type: models.OAuthPublic, RedirectURIs: []string{"https://app.example.com/cb", "http://127.0.0.1/native/cb", "http://[::1]/cb6", "com.example.app:/oauth"}}
	confidential := &models.OAuthClient{Type: models.OAuthConfidential, RedirectURIs: []string{"https://app.example.com/cb", "http://127.0.0.1:8000/cb"}}
	cases := []struct {
		c    *models.OAuthClient
		uri  string
		want bool
	}{
		{public, "https://app.example.com/cb", true},
		{public, "https://app.example.com/cb/", false},
		{public, "https://app.example.com/cb?x=1", false},
		{public, "https://APP.example.com/cb", false},
		{public, "https://app.example.com/cb#frag", false},
		{public, "https://app.example.com.evil.com/cb", false},
		{public, "https://app.example.com@evil.com/cb", false},
		{public, "https://evil.com/cb", false},
		{public, "https://app.example.com:443/cb", false},
		{public, "http://127.0.0.1/native/cb", true},
		{public, "http://127.0.0.1:51234/native/cb", true},
		{public, "http://127.0.0.1:51234/native/cb2", false},
		{public, "http://127.0.0.1:51234/native/cb?a=1", false},
		{public, "http://127.0.0.1:x/native/cb", false},
		{public, "http://localhost:51234/native/cb", false},
		{public, "http://user@127.0.0.1:51234/native/cb", false},
		{public, "https://127.0.0.1:51234/native/cb", false},
		{public, "http://[::1]:6000/cb6", true},
		{public, "http://[::1]:6000/native/cb", false},
		{public, "com.example.app:/oauth", true},
		{confidential, "http://127.0.0.1:8000/cb", true},
		{confidential, "http://127.0.0.1:8001/cb", false},
	}
	for _, c := range cases {
		if got := matchRedirectURI(c.c, c.uri); got != c.want {
			t.Errorf("%s client, %q: match = %v, want %v", c.c.Type, c.uri, got, c.want)
		}
	}
}

func TestCheckRedirectURI(t *testing.T) {
	ok := []struct {
		uri string
		typ models.OAuthClientType
	}{
		{"https://app.example.com/cb", models.OAuthConfidential},
		{"https://app.example.com/cb?tenant=1", models.OAuthConfidential},
		{"http://127.0.0.1:8000/cb", models.OAuthConfidential},
		{"http://localhost:8000/cb", models.OAuthConfidential},
		{"http://[::1]/cb", models.OAuthPublic},
		{"com.example.app:/oauth", models.OAuthPublic},
	}
	for _, c := range ok {
		if msg := checkRedirectURI(c.uri, c.typ); msg != "" {
			t.Errorf("%q (%s) refused: %s", c.uri, c.typ, msg)
		}
	}
	bad := []struct {
		uri string
		typ models.OAuthClientType
	}{
		{"", models.OAuthConfidential},
		{"/relative/cb", models.OAuthConfidential},
		{"http://app.example.com/cb", models.OAuthConfidential},
		{"https://app.example.com/cb#x", models.OAuthConfidential},
		{"https://user:pw@app.example.com/cb", models.OAuthConfidential},
		{"javascript:alert(1)", models.OAuthPublic},
		{"data:text/html,x", models.OAuthPublic},
		{"com.example.app:/oauth", models.OAuthConfidential},
		{"https:///cb", models.OAuthConfidential},
		{"https://app.example.com/c b", models.OAuthConfidential},
	}
	for _, c := range bad {
		if msg := checkRedirectURI(c.uri, c.typ); msg == "" {
			t.Errorf("%q (%s) accepted", c.uri, c.typ)
		}
	}
}

func TestConsentPageURL(t *testing.T) {
	connect := &models.Tenant{ID: "t1", ClientKey: "ck", BaseURL: "https://acme.atlassian.net/"}
	forge := &models.Tenant{ID: "t2", ForgeInstallationID: "inst", BaseURL: "https://forge.atlassian.net"}
	p := ConsentPages{BaseURL: "https://keyward.example.com", AppKey: "io.keyward.tempo-access", ForgePattern: "{siteUrl}/jira/apps/abc/def?request={request}"}
	if got, _ := p.URL(connect, "r+1"); got != "https://acme.atlassian.net/plugins/servlet/ac/io.keyward.tempo-access/keyward-consent?ac.request=r%2B1" {
		t.Errorf("connect consent URL = %q", got)
	}
	if got, _ := p.URL(forge, "r1"); got != "https://forge.atlassian.net/jira/apps/abc/def?request=r1" {
		t.Errorf("forge consent URL = %q", got)
	}
	p.ForgePattern = ""
	if _, err := p.URL(forge, "r1"); err == nil {
		t.Error("forge site without KEYWARD_FORGE_CONSENT_URL got a consent URL")
	}
	p.Dev = true
	if got, _ := p.URL(forge, "r1"); got != "https://keyward.example.com/ui/consent?request=r1" {
		t.Errorf("dev consent URL = %q", got)
	}
}
