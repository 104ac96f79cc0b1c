package offboardtest

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

// AppKey is the Connect app key the environment signs Jira calls with.
const AppKey = "io.keyward.tempo-access"

// Env is the real offboarding service and its collaborators on a test
// database.
type Env struct {
	// EncryptionKey is the sealer's key as KEYWARD_ENCRYPTION_KEY takes
	// it, for keyward processes a test starts on the same database.
	EncryptionKey string

	DB          *store.DB
	Log         *logrus.Entry
	Sealer      *seal.Sealer
	TenantStore *store.Tenants
	TenantSvc   *tenants.Service
	Creds       *credentials.Service
	Verifier    *credentials.Verifier
	Jira        *jira.Client
	Svc         *offboard.Service
	Events      *store.WebhookEvents
	Users       *store.Users
	Reports     *store.Reports
	Settings    *store.OffboardingSettings
	Audit       *store.Audit
}

// QuietLog is a logger that writes nowhere.
func QuietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// NewEnv wires the services on db. Jira calls retry quickly (3 attempts,
// at most 50 ms apart) unless the test changes Env.Jira's policy.
func NewEnv(t testing.TB, db *store.DB, o offboard.Options) *Env {
	t.Helper()
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	log := QuietLog()
	e := &Env{EncryptionKey: base64.StdEncoding.EncodeToString(key), DB: db, Log: log, Sealer: sealer, TenantStore: store.NewTenants(db), Audit: store.NewAudit(db),
		Events: store.NewWebhookEvents(db), Users: store.NewUsers(db), Reports: store.NewReports(db), Settings: store.NewOffboardingSettings(db)}
	e.TenantSvc = tenants.NewService(e.TenantStore, sealer, e.Audit, db, log, 365)
	credStore := store.NewCredentials(db)
	e.Verifier = credentials.NewVerifier(credStore, log)
	e.Creds = credentials.NewService(credStore, e.Audit, db, e.Verifier, log)
	e.Jira = jira.NewClient(&http.Client{Timeout: 10 * time.Second}, e.TenantSvc, AppKey, log)
	e.Jira.SetRetryPolicy(3, 50*time.Millisecond)
	e.Svc = offboard.New(offboard.Deps{
		Events: e.Events, Users: e.Users, Settings: e.Settings, Reports: e.Reports, Revoker: e.Creds, Jira: e.Jira,
		Tenants: e.TenantStore, Audit: e.Audit, Tx: db, Sealer: sealer, Log: log,
	}, o)
	return e
}

// ConnectSite installs a Connect site whose Jira is fj.
func (e *Env) ConnectSite(t testing.TB, clientKey string, fj *FakeJira) *models.Tenant {
	t.Helper()
	tn, err := e.TenantSvc.ConnectInstalled(context.Background(), tenants.InstallPayload{
		Key: AppKey, ClientKey: clientKey, SharedSecret: "shared-secret-" + strings.Repeat("x", 24), BaseURL: fj.URL,
		ProductType: "jira", EventType: "installed",
	})
	if err != nil {
		t.Fatalf("install %s: %v", clientKey, err)
	}
	return tn
}

// ForgeSite installs a Forge site whose API gateway is fj.
func (e *Env) ForgeSite(t testing.TB, installationID, cloudID string, fj *FakeJira) *models.Tenant {
	t.Helper()
	tn, err := e.TenantSvc.ForgeTenant(context.Background(), tenants.ForgeInvocation{
		InstallationID: installationID, APIBaseURL: fj.URL + "/ex/jira/" + cloudID, CloudID: cloudID, SystemToken: "forge-system-token",
	})
	if err != nil {
		t.Fatalf("forge site %s: %v", installationID, err)
	}
	return tn
}

// Key issues an API key for owner and returns its secret and id.
func (e *Env) Key(t testing.TB, tenantID, owner string) (secret, id string) {
	t.Helper()
	k, err := e.Creds.CreateKey(context.Background(), credentials.Owner{TenantID: tenantID, AccountID: owner, MaxLifetimeDays: 365},
		credentials.CreateKeyInput{Name: "key of " + owner, Access: credentials.AccessFull})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return k.Secret, k.Key.ID
}

// Verify checks a secret as a resource server would.
func (e *Env) Verify(secret string) credentials.Result {
	return e.Verifier.Verify(context.Background(), credentials.VerifyRequest{Secret: secret, Method: "GET", Path: "/4/worklogs", IP: "203.0.113.7", UserAgent: "test"})
}

// Credential reads a credential of a tenant.
func (e *Env) Credential(t testing.TB, tenantID, id string) *models.Credential {
	t.Helper()
	c, err := store.NewCredentials(e.DB).Get(context.Background(), tenantID, id)
	if err != nil {
		t.Fatalf("credential %s: %v", id, err)
	}
	return c
}

// Count runs a COUNT(*) query written with ? placeholders.
func (e *Env) Count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.SQL().QueryRow(Rebind(e.DB, query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Exec runs a statement written with ? placeholders.
func (e *Env) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := e.DB.SQL().Exec(Rebind(e.DB, query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Rebind turns ? placeholders into $n on PostgreSQL.
func Rebind(db *store.DB, q string) string {
	if !db.IsPostgres() {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$")
			b.WriteString(itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
