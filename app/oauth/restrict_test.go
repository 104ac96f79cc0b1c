package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/models"
)

// flakyGroups is fakeGroups with a switch that makes Jira unreachable.
type flakyGroups struct {
	*fakeGroups
	down  atomic.Bool
	calls atomic.Int64
}

func (g *flakyGroups) IsGroupMember(ctx context.Context, t *models.Tenant, accountID string, groups []string) (bool, error) {
	g.calls.Add(1)
	if g.down.Load() {
		return false, errors.New("jira is down")
	}
	return g.fakeGroups.IsGroupMember(ctx, t, accountID, groups)
}

func (e *env) flakyGroups() *flakyGroups {
	g := &flakyGroups{fakeGroups: e.groups}
	e.svc.Groups = g
	return g
}

// TestRestrictionReachesExistingGrants: the user and group restriction of
// an app is applied again at code exchange and at every refresh, like the
// consent page applies it, and narrowing the named users ends the grants
// of everyone else at once.
func TestRestrictionReachesExistingGrants(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		groups := e.flakyGroups()
		groups.members[alice] = []string{"group-svc"}
		c := &e.client(e.adminA, models.OAuthConfidential, func(in *oauth.ClientInput) {
			in.AllowedUsers, in.AllowedGroups = []string{bob}, []string{"group-svc"}
		}).Client
		bobUser := oauth.User{Tenant: e.a, AccountID: bob}
		ta := e.exchange(c, e.code(e.userA, authParams(c.ID)))
		tb := e.exchange(c, e.code(bobUser, authParams(c.ID)))
		grantA := e.verify(ta.AccessToken, "GET", "/4/worklogs").CredentialID
		grantB := e.verify(tb.AccessToken, "GET", "/4/worklogs").CredentialID

		// Bob is no longer named, but the app still has a group: whether
		// he is in it is Jira's to say, so his grant lives until his next
		// refresh, which asks.
		up, err := e.svc.UpdateClient(ctx, e.adminA, c.ID, oauth.ClientInput{AllowedUsers: []string{"557058:carol"}})
		if err != nil {
			t.Fatal(err)
		}
		if grantStatus(t, e, e.a.ID, grantB) != models.StatusActive {
			t.Fatal("bob's grant was revoked although he might be in an allowed group")
		}

		// Jira down: refreshes fail closed, temporarily, and nothing is
		// revoked or spent.
		code := e.code(e.userA, authParams(c.ID))
		groups.down.Store(true)
		for _, rt := range []string{ta.RefreshToken, tb.RefreshToken} {
			_, err := e.token(up, "grant_type", "refresh_token", "refresh_token", rt)
			if oe := wantOAuthError(t, "refresh while Jira is down", err, oauth.ErrCodeTemporarilyUnavailable); oe.Status() != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", oe.Status())
			}
		}
		_, err = e.token(up, "grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example.com/callback", "code_verifier", verifier)
		wantOAuthError(t, "code exchange while Jira is down", err, oauth.ErrCodeTemporarilyUnavailable)
		for _, g := range []string{grantA, grantB} {
			if grantStatus(t, e, e.a.ID, g) != models.StatusActive {
				t.Errorf("grant %s revoked because Jira was down", g)
			}
		}
		groups.down.Store(false)

		// Jira back: the code was not spent, alice (a group member) goes
		// on refreshing, bob's grant ends.
		e.exchange(up, code)
		if _, err := e.token(up, "grant_type", "refresh_token", "refresh_token", ta.RefreshToken); err != nil {
			t.Fatalf("refresh of a group member: %v", err)
		}
		_, err = e.token(up, "grant_type", "refresh_token", "refresh_token", tb.RefreshToken)
		wantOAuthError(t, "refresh of a user outside the restriction", err, oauth.ErrCodeInvalidGrant)
		if grantStatus(t, e, e.a.ID, grantB) != models.StatusRevoked {
			t.Error("bob's grant survived a refresh outside the restriction")
		}
		if r := e.verify(tb.AccessToken, "GET", "/4/worklogs"); r.Reason != models.ReasonRevoked {
			t.Errorf("bob's access token after the refused refresh = %+v", r)
		}
		if n := countAudit(t, e, "oauth_grant.user_not_allowed"); n != 1 {
			t.Errorf("%d oauth_grant.user_not_allowed events after bob's refresh, want 1", n)
		}

		// Dropping the group leaves only the named user: alice's grants
		// end with the change, audited, and without asking Jira.
		calls := groups.calls.Load()
		if _, err := e.svc.UpdateClient(ctx, e.adminA, c.ID, oauth.ClientInput{AllowedGroups: []string{}}); err != nil {
			t.Fatal(err)
		}
		if groups.calls.Load() != calls {
			t.Error("narrowing to named users asked Jira")
		}
		if grantStatus(t, e, e.a.ID, grantA) != models.StatusRevoked {
			t.Error("alice's grant survived the app's restriction to carol")
		}
		if n := countAudit(t, e, "oauth_grant.user_not_allowed"); n != 3 {
			t.Errorf("%d oauth_grant.user_not_allowed events, want 3 (bob's and alice's two)", n)
		}
	})
}

// TestUnrestrictedClientUpdateKeepsGrants: changing an unrestricted app, or
// lifting its restriction, revokes nothing and asks Jira nothing.
func TestUnrestrictedClientUpdateKeepsGrants(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		groups := e.flakyGroups()
		c := &e.client(e.adminA, models.OAuthConfidential).Client
		tr := e.exchange(c, e.code(e.userA, authParams(c.ID)))
		for _, in := range []oauth.ClientInput{{Name: ptr("Renamed")}, {AllowedUsers: []string{}, AllowedGroups: []string{}}, {AllowedUsers: []string{alice}}} {
			up, err := e.svc.UpdateClient(ctx, e.adminA, c.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			c = up
		}
		if r := e.verify(tr.AccessToken, "GET", "/4/worklogs"); !r.Active {
			t.Fatalf("grant of the named user after updates = %+v", r)
		}
		if _, err := e.token(c, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken); err != nil {
			t.Fatalf("refresh of the named user: %v", err)
		}
		if groups.calls.Load() != 0 {
			t.Errorf("Jira asked %d times about an app restricted to named users", groups.calls.Load())
		}
	})
}
