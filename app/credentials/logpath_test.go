package credentials

import "testing"

func TestLoggedPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/4/worklogs", "/4/worklogs"},
		{"/4/worklogs/12345", "/4/worklogs/12345"},
		{"/4/worklogs?from=2026-01-01&to=2026-01-31", "/4/worklogs?from=…&to=…"},
		{"/4/worklogs?access_token=kwa_secretsecret", "/4/worklogs?access_token=…"},
		{"/4/plans?jwt=eyJhbGciOiJIUzI1NiJ9.e30.sig&flag", "/4/plans?jwt=…&flag"},
		{"/4/teams?", "/4/teams?"},
		{"/4/teams?a=1=2&&b", "/4/teams?a=…&&b"},
		{"/4/teams#frag", "/4/teams"},
		{"/4/teams?x=secret#frag", "/4/teams?x=…"},
	} {
		if got := loggedPath(tc.in); got != tc.want {
			t.Errorf("loggedPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
