package credentials

import (
	"strings"
	"testing"
)

func TestLoggedPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/4/worklogs", "/4/worklogs"},
		{"/4/worklogs/12345", "/4/worklogs/12345"},
		{"/4/worklogs?from=2026-01-01&to=2026-01-31", "/4/worklogs?from=…&to=…"},
		{"/4/worklogs?access_token=kwa_secretsecret", "/4/worklogs?access_token=…"},
		{"/4/plans?jwt=eyJhbGciOiJIUzI1NiJ9.e30.sig&flag", "/4/plans?jwt=…&…"},
		{"/4/teams?", "/4/teams?"},
		{"/4/teams?a=1=2&&b", "/4/teams?a=…&&…"},
		{"/4/teams?a=", "/4/teams?a=…"},
		{"/4/teams?=secret", "/4/teams?…"},
		{"/4/teams?&", "/4/teams?&"},
		{"/4/teams#frag", "/4/teams"},
		{"/4/teams?x=secret#frag", "/4/teams?x=…"},
		{"/4/teams#frag?x=secret", "/4/teams"},
		{"/4/teams#frag;x=secret", "/4/teams"},
		{"/4/worklogs?from.date=1&to-date=2&_x=3", "/4/worklogs?from.date=…&to-date=…&_x=…"},
		{"/4/worklogs?" + strings.Repeat("n", 64) + "=v", "/4/worklogs?" + strings.Repeat("n", 64) + "=…"},
		{"/4/worklogs?" + strings.Repeat("n", 65) + "=v", "/4/worklogs?…"},
		{"/4/worklogs?a%3Db=c", "/4/worklogs?…"},
		{"/4/worklogs?na me=v", "/4/worklogs?…"},
		{"/4/worklogs?naïve=v", "/4/worklogs?…"},
		{"/4/worklogs?a=1;b=secret", "/4/worklogs?a=…"},
		{"/4/worklogs;jsessionid=abc", "/4/worklogs;…"},
		{"/4/worklogs;", "/4/worklogs;…"},
		{"/4/a;b/c;d?e=f", "/4/a;…?e=…"},
		{"/4/worklogs;x?", "/4/worklogs;…?"},
		{"", ""},
		{"?", "?"},
		{"?secret", "?…"},
	} {
		if got := loggedPath(tc.in); got != tc.want {
			t.Errorf("loggedPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAttackRegression_LoggedPathKeepsNoValue: values were dropped only
// after a literal '='; a secret sent as a bare query component, with '='
// percent-encoded, in a path parameter or as a parameter name reached the
// access log (and the console, exports) whole.
func TestAttackRegression_LoggedPathKeepsNoValue(t *testing.T) {
	const secret = "kwk_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg2HyWtF"
	for in, want := range map[string]string{
		"/4/worklogs?" + secret:                    "/4/worklogs?…",
		"/4/worklogs?access_token%3D" + secret:     "/4/worklogs?…",
		"/4/worklogs;access_token=" + secret:       "/4/worklogs;…",
		"/4/worklogs?from=1&" + secret:             "/4/worklogs?from=…&…",
		"/4/worklogs?" + secret + "=":              "/4/worklogs?…",
		"/4/worklogs?" + secret + "=1":             "/4/worklogs?…",
		"/4/worklogs?KWA_" + secret[4:] + "=1":     "/4/worklogs?…",
		"/4/worklogs?x%26access_token=" + secret:   "/4/worklogs?…",
		"/4/worklogs;a=b?access_token=" + secret:   "/4/worklogs;…?access_token=…",
		"/4/worklogs?a=1#access_token=" + secret:   "/4/worklogs?a=…",
		"/4/worklogs?access_token=" + secret + "&": "/4/worklogs?access_token=…&",
	} {
		got := loggedPath(in)
		if strings.Contains(got, secret) || strings.Contains(got, secret[4:]) {
			t.Errorf("loggedPath(%q) = %q keeps the secret", in, got)
		}
		if got != want {
			t.Errorf("loggedPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAttackRegression_LoggedPathAllocs: a target without query or ';'
// costs no allocation, one with them exactly one.
func TestAttackRegression_LoggedPathAllocs(t *testing.T) {
	for in, want := range map[string]float64{
		"/4/worklogs/12345": 0,
		"/4/worklogs#frag":  0,
		"/4/worklogs?from=2026-01-01&to=2026-01-31&offset=0&limit=50":  1,
		"/4/worklogs?a=&b=&c=&d=&e=&f=&g=&h=":                          1,
		"/4/worklogs?x&y&z&kwk_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZab": 1,
		"/4/worklogs;jsessionid=abc?from=1":                            1,
		"/4/worklogs;jsessionid=abc":                                   1,
	} {
		if n := testing.AllocsPerRun(200, func() { _ = loggedPath(in) }); n != want {
			t.Errorf("loggedPath(%q): %.0f allocations, want %.0f", in, n, want)
		}
	}
}
