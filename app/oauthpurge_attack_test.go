package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/keyward/keyward/app/config"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

// TestAttackRegression_ExpiredOAuthRequestsAreNeverPurged: GET /oauth/authorize
// needs no authentication (only a client_id, which is public) and stores a
// row in oauth_requests for every well-formed request, with a state of up
// to 2048 characters. oauth.Service.PurgeExpired deletes expired rows, but
// nothing calls it: no job of the scheduler (or of serve) does, so the
// table only grows. Here a request that expired three days ago survives a
// run of every job the serve process schedules.
func TestAttackRegression_ExpiredOAuthRequestsAreNeverPurged(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cfg, err := config.Load(envOf(map[string]string{"KEYWARD_ENCRYPTION_KEY": testKey}))
		if err != nil {
			t.Fatal(err)
		}
		log := offboardtest.QuietLog()
		key, _ := seal.GenerateKey()
		sealer, _ := seal.New(key)
		audit := store.NewAudit(db)
		tenantSvc := tenants.NewService(store.NewTenants(db), sealer, audit, db, log, 365)
		fj := offboardtest.NewFakeJira(t)
		tn, err := tenantSvc.ConnectInstalled(ctx, tenants.InstallPayload{ClientKey: "purge-site", SharedSecret: "shared-secret-of-purge-site-0123456789", BaseURL: fj.URL})
		if err != nil {
			t.Fatal(err)
		}
		credStore := store.NewCredentials(db)
		keySvc := credentials.NewService(credStore, audit, db, credentials.NewVerifier(credStore, log), log)
		ob, err := newOffboarding(cfg, db, log, keySvc, jira.NewClient(&http.Client{Timeout: 5 * time.Second}, tenantSvc, cfg.ConnectAppKey, log), sealer)
		if err != nil {
			t.Fatal(err)
		}
		oa := store.NewOAuth(db)
		old := time.Now().UTC().Add(-72 * time.Hour)
		if err := oa.CreateClient(ctx, &models.OAuthClient{ID: "purge-client", TenantID: tn.ID, Name: "x", Type: models.OAuthPublic,
			RedirectURIs: []string{"http://127.0.0.1/cb"}, AllowedScopes: "worklogs:view", CreatedAt: old, UpdatedAt: old}); err != nil {
			t.Fatal(err)
		}
		if err := oa.CreateRequest(ctx, &models.OAuthRequest{ID: "stale-request", TenantID: tn.ID, ClientID: "purge-client", RedirectURI: "http://127.0.0.1/cb",
			Scopes: "worklogs:view", State: "abandoned", CreatedAt: old, ExpiresAt: old.Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		for _, name := range ob.sched.Names() {
			if _, err := ob.sched.RunOnce(ctx, name, "", "test"); err != nil {
				t.Fatalf("run %s: %v", name, err)
			}
		}
		if _, err := oa.GetRequest(ctx, tn.ID, "stale-request"); err == nil {
			t.Errorf("an authorization request expired three days ago is still stored after every job ran (%v): PurgeExpired is never scheduled", ob.sched.Names())
		}
	})
}
