package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/config"
	"github.com/keyward/keyward/app/devmode"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/seed"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

// devBaseURL is the dev site's URL: localhost on the configured port.
func devBaseURL(cfg *config.Config) string {
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || port == "" {
		port = "8080"
	}
	return "http://localhost:" + port
}

// ensureDevSite creates (idempotently) the local dev site of dev mode.
func ensureDevSite(ctx context.Context, cfg *config.Config, tenantSvc *tenants.Service, db *store.DB) (*devmode.Site, error) {
	site, err := devmode.Ensure(ctx, tenantSvc, store.NewSeed(db), devBaseURL(cfg))
	if err != nil {
		return nil, fmt.Errorf("dev mode: %w", err)
	}
	return site, nil
}

// devServeAddr is the address to serve dev mode on, for the hints seed
// prints: KEYWARD_ADDR when it is a loopback address (dev mode requires
// one), else loopback on its port (8080 when the port is 0).
func devServeAddr(cfg *config.Config) string {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || port == "" || port == "0" {
		port = "8080"
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// printOpenConsole says how to open the seeded dev site's console.
func printOpenConsole(w io.Writer, cfg *config.Config) {
	addr := devServeAddr(cfg)
	fmt.Fprintf(w, "open the console: KEYWARD_DEV=1 KEYWARD_ADDR=%s go run ./app, then http://%s/dev/admin\n", addr, addr)
}

// startOverHint says how to remove the demo data: a new database.
func startOverHint(cfg *config.Config) string {
	if cfg.UsesPostgres() {
		return "stop the server, drop and re-create the PostgreSQL database, run migrate, then seed --demo again"
	}
	return fmt.Sprintf("stop the server, remove the database (rm %s*; the encryption key stays) and run seed --demo again", cfg.SQLitePath())
}

func logDevURLs(log *logrus.Entry, addr string) {
	base := "http://" + addr
	log.WithFields(logrus.Fields{"admin_console": base + "/dev/admin", "my_keys": base + "/dev/me"}).
		Warn("DEV MODE: local dev site, no Jira. Admin console (Dana Admin): " + base + "/dev/admin  Self-service (Uma User): " + base + "/dev/me")
}

// seedDemo is `keyward seed --demo`: fill the dev site with demo data.
func seedDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "seed realistic demo data (required)")
	users := fs.Int("users", 400, "people to create")
	keys := fs.Int("keys", 4000, "API keys to create")
	accessLog := fs.Int("access-log", 40000, "access log records to create (over the last 30 days)")
	tenant := fs.String("tenant", "dev", `site to fill: "dev" (the local dev site, created if needed), or another site by `+siteRefHelp+`, its Connect clientKey or Forge installationId`)
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // the flag set printed its help
	} else if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if !*demo {
		return fmt.Errorf("%w: seed needs --demo", errUsage)
	}
	if *users < 1 || *users > 1_000_000 || *keys < 0 || *keys > 10_000_000 || *accessLog < 0 || *accessLog > 50_000_000 {
		return errors.New("seed: --users 1..1000000, --keys 0..10000000, --access-log 0..50000000")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.IsPostgres() {
		if err := db.CheckSchema(ctx); err != nil {
			return err
		}
	} else if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	tenantID, devSite := *tenant, *tenant == "dev"
	if devSite {
		key, _, err := cfg.ResolveEncryptionKey(seal.GenerateKey)
		if err != nil {
			return fmt.Errorf("KEYWARD_ENCRYPTION_KEY: %w", err)
		}
		sealer, err := seal.New(key)
		if err != nil {
			return err
		}
		site, err := ensureDevSite(ctx, cfg, tenants.NewService(store.NewTenants(db), sealer, store.NewAudit(db), db, log, cfg.DefaultMaxKeyDays), db)
		if err != nil {
			return err
		}
		tenantID = site.TenantID
	} else {
		site, err := resolveSite(ctx, store.NewTenants(db), tenantID)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		tenantID, devSite = site.ID, site.IsDev()
	}
	now := time.Now().UTC()
	res, err := seed.Run(ctx, store.NewSeed(db), store.NewAccessLog(db), store.NewAudit(db), seed.Options{
		TenantID: tenantID, Users: *users, Keys: *keys, AccessLog: *accessLog, Now: now,
		Owners: []models.User{
			{AccountID: devmode.AdminAccountID, DisplayName: devmode.AdminDisplayName, AccountType: "atlassian", Active: true, UpdatedAt: now},
			{AccountID: devmode.UserAccountID, DisplayName: devmode.UserDisplayName, AccountType: "atlassian", Active: true, UpdatedAt: now},
		},
	})
	if errors.Is(err, seed.ErrAlreadySeeded) {
		if !devSite {
			return fmt.Errorf("seed: %w; refusing to seed twice (remove the database, e.g. %s, to start again)", err, cfg.SQLitePath())
		}
		// The README seeds in several sections: a second run on the
		// local dev site leaves its data alone and succeeds.
		fmt.Fprintf(stdout, "the local dev site (tenant id %s) already has demo data; nothing to do.\n", tenantID)
		fmt.Fprintf(stdout, "to start again with fresh demo data: %s.\n", startOverHint(cfg))
		printOpenConsole(stdout, cfg)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded site %s (%s database) in %s:\n", tenantID, db.Dialect(), res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  users       %7d (%d deactivated or deleted)\n", res.Users, res.InactiveUsers)
	fmt.Fprintf(stdout, "  API keys    %7d (%d active, %d expired, %d revoked; %d never used; %d active but unused for 90+ days)\n",
		res.Keys, res.Active, res.Expired, res.Revoked, res.NeverUsed, res.Stale)
	fmt.Fprintf(stdout, "  access log  %7d records over the last 30 days (%d denied)\n", res.AccessLog, res.AccessLogDenied)
	fmt.Fprintln(stdout, "secrets of seeded keys were random and discarded; only their hashes are stored.")
	if devSite {
		printOpenConsole(stdout, cfg)
	}
	return nil
}
