package credentials_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

func TestCreateKeyDefaultsAndAccess(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		now := e.clock.Now()

		cases := []struct {
			name        string
			maxDays     int
			in          credentials.CreateKeyInput
			wantExpires time.Time
			wantScopes  string
		}{
			{"default lifetime", 365, credentials.CreateKeyInput{Name: "ci", Access: credentials.AccessFull}, now.AddDate(0, 0, 30), "full"},
			{"site max below default", 7, credentials.CreateKeyInput{Name: "short", Access: credentials.AccessFull}, now.AddDate(0, 0, 7), "full"},
			{"explicit lifetime", 365, credentials.CreateKeyInput{Name: "long", ExpiresInDays: intp(365), Access: credentials.AccessFull}, now.AddDate(0, 0, 365), "full"},
			{"custom, canonical scopes", 365, credentials.CreateKeyInput{Name: "  report  ", Access: credentials.AccessCustom, Scopes: []string{"worklogs:view", "teams:manage", "worklogs:manage"}}, now.AddDate(0, 0, 30), "teams:manage worklogs:manage"},
			{"access defaults to custom", 365, credentials.CreateKeyInput{Name: "plans", Scopes: []string{"plans:view"}}, now.AddDate(0, 0, 30), "plans:view"},
		}
		for _, tc := range cases {
			o := owner(tenantA, alice)
			o.MaxLifetimeDays = tc.maxDays
			k, err := e.svc.CreateKey(ctx, o, tc.in)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if k.Key.ExpiresAt == nil || !k.Key.ExpiresAt.Equal(tc.wantExpires) {
				t.Errorf("%s: expires %v, want %v", tc.name, k.Key.ExpiresAt, tc.wantExpires)
			}
			if k.Key.Scopes != tc.wantScopes {
				t.Errorf("%s: scopes %q, want %q", tc.name, k.Key.Scopes, tc.wantScopes)
			}
			if kind, err := token.Parse(k.Secret); err != nil || kind != token.KindAPIKey {
				t.Errorf("%s: secret %q does not parse as an API key: %v", tc.name, k.Secret, err)
			}
			if k.Key.Hint != token.Hint(k.Secret) || !strings.HasPrefix(k.Key.Hint, "kwk_") {
				t.Errorf("%s: hint %q", tc.name, k.Key.Hint)
			}
			if k.Key.Name != strings.TrimSpace(tc.in.Name) || k.Key.Kind != models.KindAPIKey || k.Key.OwnerAccountID != alice || k.Key.TenantID != tenantA {
				t.Errorf("%s: key %+v", tc.name, k.Key)
			}
			stored, err := e.svc.GetKey(ctx, o, k.Key.ID)
			if err != nil {
				t.Fatalf("%s: GetKey: %v", tc.name, err)
			}
			if stored.Scopes != tc.wantScopes || !stored.ExpiresAt.Equal(tc.wantExpires) || stored.Status(now) != models.StatusActive {
				t.Errorf("%s: stored %+v", tc.name, stored)
			}
		}
		if n := countAudit(t, db, "api_key.create"); n != len(cases) {
			t.Errorf("api_key.create audit events: %d, want %d", n, len(cases))
		}
	})
}

func TestCreateKeyValidationChangesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.create(t, owner(tenantA, alice), "existing")
		full := credentials.AccessFull

		cases := []struct {
			name   string
			in     credentials.CreateKeyInput
			fields []string
		}{
			{"empty name", credentials.CreateKeyInput{Access: full}, []string{"name"}},
			{"blank name", credentials.CreateKeyInput{Name: " \t ", Access: full}, []string{"name"}},
			{"name too long", credentials.CreateKeyInput{Name: strings.Repeat("é", credentials.MaxNameLength+1), Access: full}, []string{"name"}},
			{"newline in name", credentials.CreateKeyInput{Name: "a\nb", Access: full}, []string{"name"}},
			{"DEL in name", credentials.CreateKeyInput{Name: "a\x7fb", Access: full}, []string{"name"}},
			{"expiry zero", credentials.CreateKeyInput{Name: "k", ExpiresInDays: intp(0), Access: full}, []string{"expiresInDays"}},
			{"expiry negative", credentials.CreateKeyInput{Name: "k", ExpiresInDays: intp(-3), Access: full}, []string{"expiresInDays"}},
			{"expiry over max", credentials.CreateKeyInput{Name: "k", ExpiresInDays: intp(366), Access: full}, []string{"expiresInDays"}},
			{"unknown scope", credentials.CreateKeyInput{Name: "k", Scopes: []string{"worklogs:view", "payroll:view"}}, []string{"scopes[1]"}},
			{"unknown level", credentials.CreateKeyInput{Name: "k", Scopes: []string{"worklogs:edit"}}, []string{"scopes[0]"}},
			{"custom without scopes", credentials.CreateKeyInput{Name: "k", Access: credentials.AccessCustom}, []string{"scopes"}},
			{"full scope in custom", credentials.CreateKeyInput{Name: "k", Scopes: []string{"full"}}, []string{"scopes"}},
			{"full with scopes", credentials.CreateKeyInput{Name: "k", Access: full, Scopes: []string{"worklogs:view"}}, []string{"scopes"}},
			{"bad access", credentials.CreateKeyInput{Name: "k", Access: "admin"}, []string{"access"}},
			{"every field at once", credentials.CreateKeyInput{ExpiresInDays: intp(0), Access: "FULL"}, []string{"name", "expiresInDays", "access"}},
		}
		before := rowCounts(t, db)
		for _, tc := range cases {
			_, err := e.svc.CreateKey(ctx, owner(tenantA, alice), tc.in)
			assertFields(t, tc.name, err, tc.fields...)
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("invalid input changed the database: %v -> %v", before, after)
		}
		// The boundaries themselves are accepted.
		if _, err := e.svc.CreateKey(ctx, owner(tenantA, alice), credentials.CreateKeyInput{Name: strings.Repeat("é", credentials.MaxNameLength), ExpiresInDays: intp(365), Access: full}); err != nil {
			t.Fatalf("name of exactly %d characters, 365 days: %v", credentials.MaxNameLength, err)
		}
	})
}

// assertFields fails unless err is a validation error naming exactly the
// fields.
func assertFields(t testing.TB, what string, err error, fields ...string) {
	t.Helper()
	var ve *models.ValidationError
	if !errors.Is(err, models.ErrInvalid) || !errors.As(err, &ve) {
		t.Errorf("%s: err %v, want a validation error", what, err)
		return
	}
	var got []string
	for _, f := range ve.Fields {
		got = append(got, f.Field)
		if f.Message == "" {
			t.Errorf("%s: field %s without a message", what, f.Field)
		}
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("%s: fields %v, want %v", what, got, fields)
	}
}

func TestKeysAreVisibleOnlyToTheirOwner(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		a1 := e.create(t, owner(tenantA, alice), "a1")
		e.clock.Advance(time.Second)
		a2 := e.create(t, owner(tenantA, alice), "a2", "worklogs:view")
		bobs := e.create(t, owner(tenantA, bob), "bob's")
		// The same account id in another site is another person's key.
		elsewhere := e.create(t, owner(tenantB, alice), "other site")

		list, err := e.svc.ListKeys(ctx, owner(tenantA, alice))
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != a2.Key.ID || list[1].ID != a1.Key.ID {
			t.Fatalf("ListKeys: %+v, want a2 then a1", list)
		}
		if list, _ := e.svc.ListKeys(ctx, owner(tenantB, alice)); len(list) != 1 || list[0].ID != elsewhere.Key.ID {
			t.Fatalf("ListKeys in tenant B: %+v", list)
		}

		before := rowCounts(t, db)
		for name, id := range map[string]string{"another user's key": bobs.Key.ID, "another tenant's key": elsewhere.Key.ID, "no such key": "0190c9e4-0000-7000-8000-000000000000"} {
			o := owner(tenantA, alice)
			if _, err := e.svc.GetKey(ctx, o, id); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("GetKey(%s): %v, want ErrNotFound", name, err)
			}
			if _, err := e.svc.RegenerateKey(ctx, o, id, 0); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("RegenerateKey(%s): %v, want ErrNotFound", name, err)
			}
			if _, err := e.svc.RevokeKey(ctx, o, id, ""); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("RevokeKey(%s): %v, want ErrNotFound", name, err)
			}
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("refused calls changed the database: %v -> %v", before, after)
		}
		wantActive(t, "bob's key after alice's attempts", e.verify(bobs.Secret, "GET", "/4/worklogs"))
		wantActive(t, "other site's key after attempts", e.verify(elsewhere.Secret, "GET", "/4/worklogs"))
	})
}

func TestRegenerateKey(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		o := owner(tenantA, alice)
		k := e.create(t, o, "rotating", "worklogs:manage")
		wantActive(t, "first secret", e.verify(k.Secret, "POST", "/4/worklogs"))

		// Without overlap the old secret stops at once.
		e.clock.Advance(time.Minute)
		r1, err := e.svc.RegenerateKey(ctx, o, k.Key.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r1.Secret == k.Secret || r1.Key.Hint != token.Hint(r1.Secret) || r1.Key.ID != k.Key.ID {
			t.Fatalf("regenerated %+v", r1.Key)
		}
		if r1.Key.Scopes != k.Key.Scopes || r1.Key.Name != k.Key.Name || !r1.Key.ExpiresAt.Equal(*k.Key.ExpiresAt) {
			t.Fatalf("settings changed: %+v, was %+v", r1.Key, k.Key)
		}
		wantActive(t, "new secret", e.verify(r1.Secret, "POST", "/4/worklogs"))
		wantRefused(t, "old secret", e.verify(k.Secret, "POST", "/4/worklogs"), models.ReasonRevoked)

		// With overlap the previous secret works until the overlap ends.
		r2, err := e.svc.RegenerateKey(ctx, o, k.Key.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		wantActive(t, "newest secret", e.verify(r2.Secret, "GET", "/4/worklogs"))
		wantActive(t, "previous secret during overlap", e.verify(r1.Secret, "GET", "/4/worklogs"))
		e.clock.Advance(10*time.Minute - time.Microsecond)
		wantActive(t, "previous secret just before the overlap ends", e.verify(r1.Secret, "GET", "/4/worklogs"))
		e.clock.Advance(time.Microsecond)
		wantRefused(t, "previous secret after the overlap", e.verify(r1.Secret, "GET", "/4/worklogs"), models.ReasonRevoked)
		wantActive(t, "newest secret after the overlap", e.verify(r2.Secret, "GET", "/4/worklogs"))
		wantRefused(t, "first secret", e.verify(k.Secret, "GET", "/4/worklogs"), models.ReasonRevoked)

		got, err := e.svc.GetKey(ctx, o, k.Key.ID)
		if err != nil || got.Hint != r2.Key.Hint {
			t.Fatalf("stored hint %q (%v), want %q", got.Hint, err, r2.Key.Hint)
		}
		if n := countAudit(t, db, "api_key.regenerate"); n != 2 {
			t.Errorf("regenerate audit events: %d, want 2", n)
		}

		before := rowCounts(t, db)
		for _, overlap := range []int{-1, credentials.MaxOverlapMinutes + 1, 307445735, -307445734, math.MaxInt, math.MinInt} {
			_, err := e.svc.RegenerateKey(ctx, o, k.Key.ID, overlap)
			assertFields(t, fmt.Sprintf("overlap %d", overlap), err, "overlapMinutes")
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("invalid overlap changed the database: %v -> %v", before, after)
		}
		if _, err := e.svc.RevokeKey(ctx, o, k.Key.ID, ""); err != nil {
			t.Fatal(err)
		}
		before = rowCounts(t, db)
		if _, err := e.svc.RegenerateKey(ctx, o, k.Key.ID, 0); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("regenerating a revoked key: %v, want ErrConflict", err)
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("refused regenerate changed the database: %v -> %v", before, after)
		}
		wantRefused(t, "newest secret after revoke", e.verify(r2.Secret, "GET", "/4/worklogs"), models.ReasonRevoked)
	})
}

func TestRevokeKeyIsIdempotent(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		o := owner(tenantA, alice)
		k := e.create(t, o, "short-lived")
		wantActive(t, "before revoke", e.verify(k.Secret, "GET", "/4/teams"))

		first, err := e.svc.RevokeKey(ctx, o, k.Key.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if first.RevokedAt == nil || first.RevokedBy != alice || first.RevokeReason != "revoked by owner" {
			t.Fatalf("revoked key %+v", first)
		}
		wantRefused(t, "after revoke", e.verify(k.Secret, "GET", "/4/teams"), models.ReasonRevoked)

		e.clock.Advance(time.Hour)
		before := rowCounts(t, db)
		again, err := e.svc.RevokeKey(ctx, o, k.Key.ID, "another reason")
		if err != nil {
			t.Fatal(err)
		}
		if !again.RevokedAt.Equal(*first.RevokedAt) || again.RevokeReason != first.RevokeReason {
			t.Fatalf("second revoke changed the key: %+v, was %+v", again, first)
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("second revoke wrote: %v -> %v", before, after)
		}
		if n := countAudit(t, db, "api_key.revoke"); n != 1 {
			t.Fatalf("revoke audit events: %d, want 1", n)
		}
		_, err = e.svc.RevokeKey(ctx, o, k.Key.ID, strings.Repeat("x", 501))
		assertFields(t, "reason too long", err, "reason")
	})
}

// TestSecretsAreNeverStored scans every column of the tables that describe
// keys for the plaintext of every secret issued.
func TestSecretsAreNeverStored(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		o := owner(tenantA, alice)
		k := e.create(t, o, "scan me", "worklogs:view")
		r, err := e.svc.RegenerateKey(ctx, o, k.Key.ID, 60)
		if err != nil {
			t.Fatal(err)
		}
		e.verify(r.Secret, "GET", "/4/worklogs")
		if err := e.ver.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RevokeKey(ctx, o, k.Key.ID, "scan"); err != nil {
			t.Fatal(err)
		}
		tables := []string{"credentials", "credential_secrets", "audit_events"}
		// The scan finds what is there: the hint and the key's id.
		if hits := findInTables(t, db, r.Key.Hint, tables...); len(hits) == 0 {
			t.Fatalf("control: hint %q not found by the scan", r.Key.Hint)
		}
		if hits := findInTables(t, db, k.Key.ID, tables...); len(hits) < 3 {
			t.Fatalf("control: key id found only in %v", hits)
		}
		for _, secret := range []string{k.Secret, r.Secret} {
			body := secret[len("kwk_"):]
			for _, needle := range []string{secret, body, body[:16]} {
				if hits := findInTables(t, db, needle, tables...); len(hits) > 0 {
					t.Errorf("plaintext %q found in %v", needle, hits)
				}
			}
		}
		var hashes int
		h := token.Hash(r.Secret)
		if err := db.SQL().QueryRow(rebind(db, "SELECT COUNT(*) FROM credential_secrets WHERE hash = ?"), h[:]).Scan(&hashes); err != nil || hashes != 1 {
			t.Fatalf("secret stored by its SHA-256: %d rows (%v), want 1", hashes, err)
		}
	})
}
