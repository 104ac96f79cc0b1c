package auth

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRelativePath(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"https://t.atlassian.net", "/rest/api/3/myself", "/rest/api/3/myself"},
		{"https://t.atlassian.net/", "/rest/api/3/myself", "/rest/api/3/myself"},
		{"https://t.atlassian.net/wiki", "/wiki/rest/api/space", "/rest/api/space"},
		{"https://t.atlassian.net/wiki/", "/wiki/rest/api/space", "/rest/api/space"},
		{"https://t.atlassian.net/wiki", "/wiki", ""},
		{"https://t.atlassian.net/wiki", "/wikis/x", "/wikis/x"},
		{"https://t.atlassian.net/wiki", "/rest/api", "/rest/api"},
		{"https://t.atlassian.net/a%20b", "/a%20b/c", "/c"},
		{"://bad", "/x", "/x"},
	}
	for _, tc := range tests {
		if got := RelativePath(tc.base, tc.path); got != tc.want {
			t.Errorf("RelativePath(%q, %q) = %q, want %q", tc.base, tc.path, got, tc.want)
		}
	}
}

func TestSignOutgoing(t *testing.T) {
	const appKey = "io.keyward.tempo-access"
	secret := []byte(testSecret)
	tests := []struct {
		name, base, rawURL, relPath string
	}{
		{"root base", "https://t.atlassian.net", "https://t.atlassian.net/rest/api/3/user/bulk?accountId=b&accountId=a&maxResults=90", "/rest/api/3/user/bulk"},
		{"base with path", "https://t.atlassian.net/jira", "https://t.atlassian.net/jira/rest/api/3/myself", "/rest/api/3/myself"},
		{"escaped path", "https://t.atlassian.net", "https://t.atlassian.net/rest/api/3/group/member?groupId=a%20b&includeInactiveUsers=true", "/rest/api/3/group/member"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.rawURL)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := SignOutgoing(appKey, secret, "get", u, tc.base, testNow, 3*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			v := &ConnectVerifier{Lookup: secretLookup(map[string]string{appKey: testSecret}), Now: fixedNow}
			c, err := v.Verify(context.Background(), tok, ConnectRequest{Method: "GET", Path: tc.relPath, RawQuery: u.RawQuery})
			if err != nil {
				t.Fatalf("own token does not verify: %v", err)
			}
			if c.Issuer != appKey || !c.ExpiresAt.Equal(testNow.Add(3*time.Minute)) || !c.IssuedAt.Equal(testNow) {
				t.Fatalf("claims = %+v", c)
			}
			h, _ := decodeSegment(strings.Split(tok, ".")[0])
			var hdr map[string]any
			if err := json.Unmarshal(h, &hdr); err != nil || hdr["alg"] != "HS256" || hdr["typ"] != "JWT" {
				t.Fatalf("header = %s", h)
			}
		})
	}
}

func TestSignOutgoingRefusesBadInput(t *testing.T) {
	u, _ := url.Parse("https://t.atlassian.net/x")
	cases := map[string]func() (string, error){
		"empty app key": func() (string, error) { return SignOutgoing("", []byte("s"), "GET", u, "", testNow, time.Minute) },
		"empty secret":  func() (string, error) { return SignOutgoing("k", nil, "GET", u, "", testNow, time.Minute) },
		"nil url":       func() (string, error) { return SignOutgoing("k", []byte("s"), "GET", nil, "", testNow, time.Minute) },
		"zero ttl":      func() (string, error) { return SignOutgoing("k", []byte("s"), "GET", u, "", testNow, 0) },
	}
	for name, f := range cases {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
