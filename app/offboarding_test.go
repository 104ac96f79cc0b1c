package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/config"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
)

// TestJobNamesAreTheRegisteredJobs: help and run-job name exactly the jobs
// the scheduler runs, from one list.
func TestJobNamesAreTheRegisteredJobs(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	cfg, err := config.Load(envOf(map[string]string{"KEYWARD_ENCRYPTION_KEY": testKey}))
	if err != nil {
		t.Fatal(err)
	}
	log := offboardtest.QuietLog()
	credStore := store.NewCredentials(db)
	keySvc := credentials.NewService(credStore, store.NewAudit(db), db, credentials.NewVerifier(credStore, log), log)
	ob, err := newOffboarding(cfg, db, log, keySvc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := jobNames()
	if !slices.Equal(names, ob.sched.Names()) {
		t.Errorf("jobNames() = %v, the scheduler runs %v", names, ob.sched.Names())
	}
	if !slices.Contains(names, "oauth-purge") || !slices.Contains(names, "reconcile") {
		t.Errorf("jobNames() = %v", names)
	}

	help, _, err := runCmd(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append([]string{"serve ", "help ", "run-job NAME", "tenant id", "seed --demo"}, names...) {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	_, _, err = runCmd(t, nil, "run-job")
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), strings.Join(names, ", ")) {
		t.Errorf("run-job without a name: %v, want a usage error listing %v", err, names)
	}
	_, _, err = runCmd(t, nil, "run-job", "frobnicate")
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `no job "frobnicate"`) || !strings.Contains(err.Error(), "oauth-purge") {
		t.Errorf("run-job frobnicate: %v", err)
	}
}

// TestRunJobTenant: -tenant takes keyward's tenant id, or a Connect
// clientKey; anything else is refused with a message saying which id to
// use, before any run is recorded.
func TestRunJobTenant(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			env := cliEnv(t, dialect)
			id := installSite(t, env, "run-job-site")

			_, _, err := runCmd(t, env, "run-job", "weekly-report", "-tenant", "not-a-site")
			if err == nil || !strings.Contains(err.Error(), `no site with tenant id "not-a-site"`) || !strings.Contains(err.Error(), "whoami") {
				t.Errorf("run-job for an unknown site: %v", err)
			}
			for _, ref := range []string{id, "run-job-site"} {
				out, _, err := runCmd(t, env, "run-job", "weekly-report", "-tenant", ref)
				if err != nil || !strings.Contains(out, "job weekly-report run ") || !strings.Contains(out, "succeeded") || !strings.Contains(out, `"sites":1`) {
					t.Errorf("run-job weekly-report -tenant %s = %q, %v", ref, out, err)
				}
			}
			if _, _, err := runCmd(t, env, "run-job", "oauth-purge", "-tenant", id); err == nil || !strings.Contains(err.Error(), "whole deployment") {
				t.Errorf("a global job for one site: %v", err)
			}
		})
	}
}
