package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/audit"
	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/config"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/devmode"
	"github.com/keyward/keyward/app/inventory"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/frontend"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/manifest"
)

func newLogger(cfg *config.Config, out io.Writer) *logrus.Entry {
	l := logrus.New()
	l.SetOutput(out)
	if cfg.LogFormat == "text" {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	} else {
		l.SetFormatter(&logrus.JSONFormatter{})
	}
	if lvl, err := logrus.ParseLevel(cfg.LogLevel); err == nil {
		l.SetLevel(lvl)
	}
	return logrus.NewEntry(l).WithField("service", "keyward")
}

func openDB(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	return store.Open(ctx, store.Options{PostgresURL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath()})
}

// serve is the composition root: config, database, services, HTTP server,
// scheduler; shutdown in reverse order.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
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
	} else if applied, err := db.Migrate(ctx); err != nil {
		return err
	} else if len(applied) > 0 {
		log.WithField("applied", applied).Info("embedded database migrated")
	}

	key, created, err := cfg.ResolveEncryptionKey(seal.GenerateKey)
	if err != nil {
		return fmt.Errorf("KEYWARD_ENCRYPTION_KEY: %w", err)
	}
	if created {
		log.WithField("path", cfg.DataDir).Warn("generated a new encryption key in the data directory; back it up, or set KEYWARD_ENCRYPTION_KEY in production")
	}
	sealer, err := seal.New(key)
	if err != nil {
		return err
	}

	auditStore := store.NewAudit(db)
	tenantSvc := tenants.NewService(store.NewTenants(db), sealer, auditStore, db, log, cfg.DefaultMaxKeyDays)

	httpClient := &http.Client{Timeout: 10 * time.Second}
	installVerifier := &auth.InstallVerifier{Keys: auth.NewInstallKeyFetcher(cfg.ConnectInstallKeysURL, httpClient), BaseURL: cfg.BaseURL, Leeway: cfg.JWTLeeway}
	var fit handlers.FITVerifier
	if cfg.ForgeAppID != "" {
		v, err := auth.NewFITVerifier(ctx, cfg.ForgeJWKSURL, cfg.ForgeAppID, httpClient, cfg.JWTLeeway)
		if err != nil {
			return fmt.Errorf("forge: %w", err)
		}
		fit = v
	} else {
		log.Warn("KEYWARD_FORGE_APP_ID is not set: Forge invocations will be refused")
	}

	credStore := store.NewCredentials(db)
	verifier := credentials.NewVerifier(credStore, log)
	keySvc := credentials.NewService(credStore, auditStore, db, verifier, log)
	accessLogStore := store.NewAccessLog(db)
	var accessLog *audit.AccessLogWriter
	if cfg.AccessLog {
		accessLog = audit.NewAccessLogWriter(accessLogStore, log, cfg.AccessLogQueue)
		verifier.SetRecorder(accessLog)
	} else {
		log.Warn("KEYWARD_ACCESS_LOG is off: verifications are not recorded")
	}
	if len(cfg.VerifyTokens) == 0 {
		log.Warn("KEYWARD_VERIFY_TOKENS is not set: /v1/verify refuses every resource server")
	}

	// Background workers stop after the HTTP server, so every request they
	// serve is flushed.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { verifier.RunPoller(bgCtx, cfg.RevocationPoll) })
	bg.Go(func() { verifier.RunUsageFlusher(bgCtx, cfg.UsageFlushInterval) })
	if accessLog != nil {
		bg.Go(func() { accessLog.Run(bgCtx) })
	}
	defer func() {
		stopBackground()
		bg.Wait()
		if accessLog != nil {
			w, d, f := accessLog.Stats()
			log.WithFields(logrus.Fields{"written": w, "dropped": d, "failed": f}).Info("access log flushed")
		}
	}()

	jiraClient := jira.NewClient(httpClient, tenantSvc, cfg.ConnectAppKey, log)
	admins := tenants.NewAdminChecker(jiraClient, time.Minute)
	inventorySvc := inventory.NewService(store.NewInventory(db), keySvc, verifier, auditStore, db, log)
	var devTokens handlers.DevTokens
	if cfg.Dev {
		site, err := ensureDevSite(ctx, cfg, tenantSvc, db)
		if err != nil {
			return err
		}
		admins.SetDevAdmins(site.TenantID, devmode.AdminAccountID)
		devTokens = site
	}
	oauthSvc := oauth.NewService(oauth.Config{
		Issuer: cfg.BaseURL, AccessTTL: cfg.OAuthAccessTTL, RefreshTTL: cfg.OAuthRefreshTTL, CodeTTL: cfg.OAuthCodeTTL,
		Consent: oauth.ConsentPages{Dev: cfg.Dev, BaseURL: cfg.BaseURL, AppKey: cfg.ConnectAppKey, ForgePattern: cfg.ForgeConsentURL},
	}, oauth.Deps{
		Store: store.NewOAuth(db), Credentials: credStore, Revoker: keySvc, Tenants: tenantSvc, Groups: jiraClient,
		Audit: auditStore, Tx: db, Log: log,
	})
	ob, err := newOffboarding(cfg, db, log, keySvc, jiraClient, sealer)
	if err != nil {
		return err
	}
	bg.Go(func() { ob.svc.RunWorkers(bgCtx, ob.workers) })
	if cfg.Scheduler {
		ob.sched.Start()
	} else {
		log.Warn("KEYWARD_SCHEDULER is off: jobs run only when started by hand")
	}

	descriptor, err := manifest.Connect(manifestParams(cfg))
	if err != nil {
		return err
	}
	metrics := handlers.NewMetrics()
	if accessLog != nil {
		for name, pick := range map[string]func(w, d, f int64) int64{
			"written": func(w, _, _ int64) int64 { return w },
			"dropped": func(_, d, _ int64) int64 { return d },
			"failed":  func(_, _, f int64) int64 { return f },
		} {
			metrics.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "keyward_access_log_" + name + "_total", Help: "Access log records " + name + " by the batch writer.",
			}, func() float64 { return float64(pick(accessLog.Stats())) }))
		}
	}
	e := handlers.New(handlers.Deps{
		Log: log, BaseURL: cfg.BaseURL, BodyLimit: cfg.BodyLimit, JWTLeeway: cfg.JWTLeeway, Descriptor: descriptor,
		DB: db, Tenants: tenantSvc, Lifecycle: tenantSvc, Install: installVerifier, FIT: fit,
		Keys: keySvc, AccessLog: accessLogStore, Lifetime: tenantSvc, Checker: verifier, VerifyTokens: cfg.VerifyTokens,
		Admins: admins, Metrics: metrics,
		Inventory: inventorySvc, Dev: devTokens,
		OAuth: oauthSvc, OAuthClients: oauthSvc,
		UserEvents: ob.svc, Offboard: ob.svc, Jobs: ob.sched,
		UI: frontend.Dist(),
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("KEYWARD_ADDR: listen on %s: %w", cfg.Addr, err)
	}
	srvErr := make(chan error, 1)
	go func() { srvErr <- e.Server.Serve(ln) }()
	log.WithFields(logrus.Fields{"addr": ln.Addr().String(), "database": db.Dialect(), "version": version}).Info("keyward listening")
	if cfg.Dev {
		logDevURLs(log, ln.Addr().String())
	}

	select {
	case err := <-srvErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := e.Shutdown(shutdownCtx); err != nil {
		log.WithError(err).Warn("http shutdown")
	}
	ob.sched.Stop(shutdownCtx)
	return nil
}
