package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

const (
	invA = "inv-a"
	invB = "inv-b"
)

var invNames = []string{"Alpha sync", "Bravo export", "Charlie bot", "Delta report", "Echo feed", "Payroll export", "Zulu script"}

// invFixture fills two tenants: A with 80 credentials whose sort values
// repeat and are often NULL (to exercise ties and NULL segments), B with a
// few of its own. Owner 3 is deactivated, owner 4 deleted and owner 5 has
// no users row.
func invFixture(t *testing.T, db *store.DB) []models.Credential {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{invA, invB} {
		if err := store.NewTenants(db).Create(ctx, newTenant(id, "ck-"+id, "")); err != nil {
			t.Fatal(err)
		}
	}
	var users []models.User
	for i := range 5 {
		users = append(users, models.User{TenantID: invA, AccountID: fmt.Sprintf("owner-%d", i), DisplayName: fmt.Sprintf("Person %c Smith", 'A'+i),
			Active: i != 3, Deleted: i == 4, UpdatedAt: at})
	}
	users = append(users, models.User{TenantID: invB, AccountID: "owner-0", DisplayName: "Other Site Person", Active: false, UpdatedAt: at})
	seed := store.NewSeed(db)
	if err := seed.UpsertUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	scopes := []string{"full", "worklogs:view", "accounts:manage worklogs:view", "teams:manage", "plans:view worklogs:manage"}
	var creds []models.Credential
	mk := func(tenant string, i int) models.Credential {
		created := at.Add(-time.Duration(i/2) * time.Hour) // pairs share created_at
		c := models.Credential{
			ID: fmt.Sprintf("%s-%03d", tenant, (i*37)%100), TenantID: tenant, Kind: models.KindAPIKey, OwnerAccountID: fmt.Sprintf("owner-%d", i%6),
			Name: invNames[i%len(invNames)], Hint: fmt.Sprintf("kwk_…%04d", i), Scopes: scopes[i%len(scopes)], CreatedAt: created, UpdatedAt: created,
		}
		if i%10 == 3 {
			c.Kind, c.ClientID = models.KindOAuthGrant, "client-1"
		}
		if i%4 != 0 {
			lu := at.Add(-time.Duration(i%9) * 24 * time.Hour)
			c.LastUsedAt = &lu
		}
		if i%5 != 0 {
			exp := created.AddDate(0, 0, (i%3)*30-20) // some already expired
			c.ExpiresAt = &exp
		}
		if i%6 == 0 {
			r := created.Add(time.Minute)
			c.RevokedAt, c.RevokedBy, c.RevokeReason = &r, "admin", "test"
		}
		return c
	}
	for i := range 80 {
		creds = append(creds, mk(invA, i))
	}
	var secrets []models.CredentialSecret
	for i, c := range creds {
		secrets = append(secrets, models.CredentialSecret{Hash: []byte(fmt.Sprintf("hash-%032d", i)), TenantID: c.TenantID, CredentialID: c.ID, CreatedAt: c.CreatedAt})
	}
	if err := seed.CreateCredentials(ctx, creds, secrets); err != nil {
		t.Fatal(err)
	}
	var other []models.Credential
	for i := range 8 {
		other = append(other, mk(invB, i))
	}
	if err := seed.CreateCredentials(ctx, other, nil); err != nil {
		t.Fatal(err)
	}
	return creds
}

// refLess orders credentials like the store: NULL last use is the oldest,
// NULL expiry the latest, ties broken by id.
func refCompare(key store.SortKey, a, b *models.Credential) int {
	timeCmp := func(x, y *time.Time, nullHigh bool) int {
		switch {
		case x == nil && y == nil:
			return 0
		case x == nil:
			if nullHigh {
				return 1
			}
			return -1
		case y == nil:
			if nullHigh {
				return -1
			}
			return 1
		}
		return x.Compare(*y)
	}
	var c int
	switch key {
	case store.SortCreated:
		c = a.CreatedAt.Compare(b.CreatedAt)
	case store.SortLastUsed:
		c = timeCmp(a.LastUsedAt, b.LastUsedAt, false)
	case store.SortExpires:
		c = timeCmp(a.ExpiresAt, b.ExpiresAt, true)
	case store.SortName:
		c = strings.Compare(a.Name, b.Name)
	}
	return cmp.Or(c, strings.Compare(a.ID, b.ID))
}

func ids(rows []store.InventoryCredential) []string {
	out := make([]string, len(rows))
	for i := range rows {
		out[i] = rows[i].ID
	}
	return out
}

func TestInventoryKeysetOrders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		creds := invFixture(t, db)
		inv := store.NewInventory(db)
		f := store.CredentialFilter{TenantID: invA, Now: at}
		for _, key := range []store.SortKey{store.SortCreated, store.SortLastUsed, store.SortExpires, store.SortName} {
			for _, desc := range []bool{false, true} {
				want := slices.Clone(creds)
				slices.SortFunc(want, func(a, b models.Credential) int {
					if desc {
						return refCompare(key, &b, &a)
					}
					return refCompare(key, &a, &b)
				})
				var got []string
				var after *store.Position
				for pages := 0; pages < 100; pages++ {
					rows, err := inv.ListCredentials(ctx, f, store.CredentialPage{Sort: key, Desc: desc, After: after, Limit: 7})
					if err != nil {
						t.Fatalf("%s desc=%v: %v", key, desc, err)
					}
					got = append(got, ids(rows)...)
					if len(rows) < 7 {
						break
					}
					p := store.PositionOf(&rows[len(rows)-1], key)
					after = &p
				}
				wantIDs := make([]string, len(want))
				for i := range want {
					wantIDs[i] = want[i].ID
				}
				if !slices.Equal(got, wantIDs) {
					t.Errorf("%s desc=%v: pages give\n%v\nwant\n%v", key, desc, got, wantIDs)
				}
			}
		}
		if _, err := inv.ListCredentials(ctx, f, store.CredentialPage{Sort: "bogus", Limit: 1}); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("unknown sort: %v", err)
		}
	})
}

func TestInventoryFilters(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		creds := invFixture(t, db)
		inv := store.NewInventory(db)
		now := at
		ptr := func(t time.Time) *time.Time { return &t }
		inactive := map[string]bool{"owner-3": true, "owner-4": true}
		cases := []struct {
			name string
			f    store.CredentialFilter
			want func(c *models.Credential) bool
		}{
			{"all", store.CredentialFilter{}, func(c *models.Credential) bool { return true }},
			{"kind", store.CredentialFilter{Kind: models.KindOAuthGrant}, func(c *models.Credential) bool { return c.Kind == models.KindOAuthGrant }},
			{"active", store.CredentialFilter{Status: models.StatusActive}, func(c *models.Credential) bool { return c.Status(now) == models.StatusActive }},
			{"expired", store.CredentialFilter{Status: models.StatusExpired}, func(c *models.Credential) bool { return c.Status(now) == models.StatusExpired }},
			{"revoked", store.CredentialFilter{Status: models.StatusRevoked}, func(c *models.Credential) bool { return c.Status(now) == models.StatusRevoked }},
			{"owner", store.CredentialFilter{OwnerAccountID: "owner-2"}, func(c *models.Credential) bool { return c.OwnerAccountID == "owner-2" }},
			{"scope token", store.CredentialFilter{Scope: "worklogs:view"}, func(c *models.Credential) bool { return slices.Contains(strings.Fields(c.Scopes), "worklogs:view") }},
			{"scope full", store.CredentialFilter{Scope: "full"}, func(c *models.Credential) bool { return c.Scopes == "full" }},
			{"scope area", store.CredentialFilter{Scope: "worklogs", ScopeIsArea: true}, func(c *models.Credential) bool { return strings.Contains(c.Scopes, "worklogs:") }},
			{"created range", store.CredentialFilter{CreatedFrom: ptr(at.Add(-10 * time.Hour)), CreatedTo: ptr(at.Add(-4 * time.Hour))}, func(c *models.Credential) bool {
				return !c.CreatedAt.Before(at.Add(-10*time.Hour)) && c.CreatedAt.Before(at.Add(-4*time.Hour))
			}},
			{"last used range", store.CredentialFilter{LastUsedFrom: ptr(at.Add(-72 * time.Hour)), LastUsedTo: ptr(at)}, func(c *models.Credential) bool {
				return c.LastUsedAt != nil && !c.LastUsedAt.Before(at.Add(-72*time.Hour)) && c.LastUsedAt.Before(at)
			}},
			{"stale", store.CredentialFilter{UnusedSince: ptr(at.Add(-5 * 24 * time.Hour))}, func(c *models.Credential) bool {
				last := c.CreatedAt
				if c.LastUsedAt != nil {
					last = *c.LastUsedAt
				}
				return last.Before(at.Add(-5 * 24 * time.Hour))
			}},
			{"owner inactive", store.CredentialFilter{OwnerInactive: true}, func(c *models.Credential) bool { return inactive[c.OwnerAccountID] }},
			{"search name", store.CredentialFilter{Search: "PAYROLL"}, func(c *models.Credential) bool { return strings.Contains(c.Name, "Payroll") }},
			{"search hint", store.CredentialFilter{Search: "…0042"}, func(c *models.Credential) bool { return strings.HasSuffix(c.Hint, "0042") }},
			{"search owner name", store.CredentialFilter{Search: "person c"}, func(c *models.Credential) bool { return c.OwnerAccountID == "owner-2" }},
			{"search owner id", store.CredentialFilter{Search: "owner-5"}, func(c *models.Credential) bool { return c.OwnerAccountID == "owner-5" }},
			{"search is literal", store.CredentialFilter{Search: "%"}, func(c *models.Credential) bool { return false }},
			{"ids", store.CredentialFilter{IDs: []string{creds[0].ID, creds[1].ID, "inv-b-000"}}, func(c *models.Credential) bool { return c.ID == creds[0].ID || c.ID == creds[1].ID }},
			{"bound and not revoked", store.CredentialFilter{CreatedAtOrBefore: ptr(at.Add(-20 * time.Hour)), NotRevoked: true}, func(c *models.Credential) bool {
				return !c.CreatedAt.After(at.Add(-20*time.Hour)) && c.RevokedAt == nil
			}},
			{"combined", store.CredentialFilter{Status: models.StatusActive, Scope: "worklogs", ScopeIsArea: true, OwnerInactive: true}, func(c *models.Credential) bool {
				return c.Status(now) == models.StatusActive && strings.Contains(c.Scopes, "worklogs:") && inactive[c.OwnerAccountID]
			}},
		}
		for _, tc := range cases {
			tc.f.TenantID, tc.f.Now = invA, now
			rows, err := inv.ListCredentials(ctx, tc.f, store.CredentialPage{Sort: store.SortCreated, Desc: true, Limit: 1000})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var want []string
			for i := range creds {
				if tc.want(&creds[i]) {
					want = append(want, creds[i].ID)
				}
			}
			got := ids(rows)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %v\nwant %v", tc.name, got, want)
			}
			n, exact, err := inv.CountCredentials(ctx, tc.f, 5000, 0)
			if err != nil || !exact || n != int64(len(want)) {
				t.Errorf("%s: count = %d, %v, %v; want %d exact", tc.name, n, exact, err, len(want))
			}
		}
		// Owners are joined: names, unknown owners, deactivated and deleted.
		rows, err := inv.ListCredentials(ctx, store.CredentialFilter{TenantID: invA, Now: now}, store.CredentialPage{Sort: store.SortCreated, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			wantName := ""
			if r.OwnerAccountID != "owner-5" {
				wantName = fmt.Sprintf("Person %c Smith", 'A'+r.OwnerAccountID[6]-'0')
			}
			if r.OwnerDisplayName != wantName || r.OwnerActive == inactive[r.OwnerAccountID] || r.OwnerKnown != (r.OwnerAccountID != "owner-5") {
				t.Errorf("%s: owner %s shown as %q active=%v known=%v", r.ID, r.OwnerAccountID, r.OwnerDisplayName, r.OwnerActive, r.OwnerKnown)
			}
		}
	})
}

func TestInventoryTenantIsolation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		creds := invFixture(t, db)
		inv := store.NewInventory(db)
		if _, err := inv.GetCredential(ctx, invB, creds[0].ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another tenant's credential: %v", err)
		}
		got, err := inv.GetCredential(ctx, invA, creds[0].ID)
		if err != nil || got.ID != creds[0].ID || got.OwnerDisplayName == "" {
			t.Errorf("own credential: %+v, %v", got, err)
		}
		rows, err := inv.ListCredentials(ctx, store.CredentialFilter{TenantID: invB, Now: at, Search: "owner-0"}, store.CredentialPage{Sort: store.SortName, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.TenantID != invB || r.OwnerDisplayName != "Other Site Person" || r.OwnerActive {
				t.Errorf("tenant B row %+v", r)
			}
		}
		if _, err := inv.ListCredentials(ctx, store.CredentialFilter{}, store.CredentialPage{Sort: store.SortName, Limit: 1}); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("no tenant: %v", err)
		}
		owners, err := inv.ListOwners(ctx, store.OwnerFilter{TenantID: invB, Limit: 100, Now: at})
		if err != nil || len(owners) != 6 {
			t.Fatalf("tenant B owners: %d, %v", len(owners), err)
		}
		var total int64
		for _, o := range owners {
			total += o.TotalCredentials
		}
		if total != 8 {
			t.Errorf("tenant B owners count %d credentials, want 8", total)
		}
		known, err := inv.OwnerKnown(ctx, invB, "owner-9")
		if err != nil || known {
			t.Errorf("unknown owner: %v %v", known, err)
		}
		c := &store.Confirmation{ID: "abc", TenantID: invA, Actor: "admin", Action: "x", Selection: "{}", Count: 1, CreatedAt: at, ExpiresAt: at.Add(time.Minute)}
		if err := inv.CreateConfirmation(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := inv.ConfirmationForUpdate(ctx, invB, "abc"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another tenant's confirmation: %v", err)
		}
		if err := inv.UseConfirmation(ctx, invB, "abc", at); !errors.Is(err, models.ErrConflict) {
			t.Errorf("using another tenant's confirmation: %v", err)
		}
		if err := inv.UseConfirmation(ctx, invA, "abc", at); err != nil {
			t.Errorf("use: %v", err)
		}
		if err := inv.UseConfirmation(ctx, invA, "abc", at); !errors.Is(err, models.ErrConflict) {
			t.Errorf("second use: %v", err)
		}
		got2, err := inv.ConfirmationForUpdate(ctx, invA, "abc")
		if err != nil || got2.UsedAt == nil || got2.Count != 1 {
			t.Errorf("used confirmation: %+v %v", got2, err)
		}
	})
}

func TestInventoryOwners(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		creds := invFixture(t, db)
		inv := store.NewInventory(db)
		var all []store.OwnerSummary
		after := ""
		for range 10 {
			page, err := inv.ListOwners(ctx, store.OwnerFilter{TenantID: invA, After: after, Limit: 4, Now: at})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < 4 {
				break
			}
			after = page[len(page)-1].AccountID
		}
		if len(all) != 6 {
			t.Fatalf("owners: %d, want 6", len(all))
		}
		for i, o := range all {
			var total, active int64
			var last *time.Time
			for _, c := range creds {
				if c.OwnerAccountID != o.AccountID {
					continue
				}
				total++
				if c.Status(at) == models.StatusActive {
					active++
				}
				if c.LastUsedAt != nil && (last == nil || c.LastUsedAt.After(*last)) {
					last = c.LastUsedAt
				}
			}
			if o.AccountID != fmt.Sprintf("owner-%d", i) || o.TotalCredentials != total || o.ActiveCredentials != active || (last == nil) != (o.LastUsedAt == nil) || (last != nil && !last.Equal(*o.LastUsedAt)) {
				t.Errorf("owner %d = %+v; want total %d active %d last %v", i, o, total, active, last)
			}
			if wantActive := i != 3 && i != 4; o.Active != wantActive || o.Known != (i != 5) {
				t.Errorf("owner %d active=%v known=%v", i, o.Active, o.Known)
			}
		}
		inactive, err := inv.ListOwners(ctx, store.OwnerFilter{TenantID: invA, Inactive: true, Limit: 10, Now: at})
		if err != nil || len(inactive) != 2 || inactive[0].AccountID != "owner-3" || inactive[1].AccountID != "owner-4" {
			t.Errorf("inactive owners: %+v %v", inactive, err)
		}
		found, err := inv.ListOwners(ctx, store.OwnerFilter{TenantID: invA, Search: "PERSON B", Limit: 10, Now: at})
		if err != nil || len(found) != 1 || found[0].AccountID != "owner-1" {
			t.Errorf("search owners: %+v %v", found, err)
		}
		found, err = inv.ListOwners(ctx, store.OwnerFilter{TenantID: invA, Search: "owner-5", Limit: 10, Now: at})
		if err != nil || len(found) != 1 || found[0].Known {
			t.Errorf("search an owner with no users row: %+v %v", found, err)
		}
	})
}

func TestRevokeMatchingInventoryFilter(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		creds := invFixture(t, db)
		bound := at.Add(-15 * time.Hour)
		m := &store.CredentialFilter{Status: models.StatusActive, OwnerAccountID: "owner-1", CreatedAtOrBefore: &bound, Now: at}
		revoked, err := store.NewCredentials(db).RevokeMatching(ctx, store.RevokeFilter{TenantID: invA, Match: m}, at, "admin", "bulk")
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, c := range creds {
			if c.Status(at) == models.StatusActive && c.OwnerAccountID == "owner-1" && !c.CreatedAt.After(bound) {
				want = append(want, c.ID)
			}
		}
		got := make([]string, len(revoked))
		for i := range revoked {
			got[i] = revoked[i].ID
		}
		slices.Sort(got)
		slices.Sort(want)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("revoked %v, want %v", got, want)
		}
		// The other tenant's twin rows are untouched.
		n, _, err := store.NewInventory(db).CountCredentials(ctx, store.CredentialFilter{TenantID: invB, Status: models.StatusRevoked, Now: at}, 100, 0)
		if err != nil || n != 2 {
			t.Errorf("tenant B revoked = %d, %v; want its own 2", n, err)
		}
	})
}
