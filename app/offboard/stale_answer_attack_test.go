package offboard_test

import (
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// reactivateAfterFetch answers like Jira, then (before the writer applies
// the answer, as happens while a checked batch waits in the results
// channel) a newer "user reactivated" event is applied.
type reactivateAfterFetch struct {
	offboard.Jira
	users *store.Users
	t     *testing.T
}

func (j reactivateAfterFetch) BulkUsers(ctx context.Context, tn *models.Tenant, ids []string) (map[string]jira.User, error) {
	out, err := j.Jira.BulkUsers(ctx, tn, ids)
	time.Sleep(5 * time.Millisecond)
	yes := true
	if _, e := j.users.ApplyEvent(ctx, tn.ID, "alice", store.UserState{Active: &yes, At: time.Now().UTC()}); e != nil {
		j.t.Error(e)
	}
	time.Sleep(5 * time.Millisecond)
	return out, err
}

// TestAttackRegression_StaleJiraAnswerBeatsNewerReactivation: a user/bulk
// answer was applied with the writer's clock, not the time keyward asked
// Jira, and the revocation list ignored users whose check was superseded:
// a reactivation event processed between the question and the write was
// overridden and the reactivated person's credentials revoked for good.
func TestAttackRegression_StaleJiraAnswerBeatsNewerReactivation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		env := offboardtest.NewEnv(t, db, offboard.Options{ReconcileConcurrency: 1})
		fj := offboardtest.NewFakeJira(t)
		site := env.ConnectSite(t, "client-a", fj)
		sec, _ := env.Key(t, site.ID, "alice")
		fj.SetUser("alice", true)
		if _, err := env.Svc.Reconcile(context.Background(), offboard.Run{}); err != nil {
			t.Fatal(err)
		}
		fj.SetUser("alice", false) // deactivated in Jira ... and reactivated right after Jira answered
		svc := offboard.New(offboard.Deps{Events: env.Events, Users: env.Users, Settings: env.Settings, Reports: env.Reports, Revoker: env.Creds,
			Jira: reactivateAfterFetch{Jira: env.Jira, users: env.Users, t: t}, Tenants: env.TenantStore, Audit: env.Audit, Tx: db, Sealer: env.Sealer, Log: env.Log},
			offboard.Options{ReconcileConcurrency: 1})
		c, err := svc.Reconcile(context.Background(), offboard.Run{})
		u, _ := env.Users.Get(context.Background(), site.ID, "alice")
		v := env.Verify(sec)
		if err != nil {
			t.Fatal(err)
		}
		if !u.Active || !v.Active || c["revoked"] != 0 {
			t.Errorf("a reactivation newer than Jira's answer lost: user active=%v, key revoked=%v", u.Active, v.Reason == models.ReasonRevoked)
		}
	})
}
