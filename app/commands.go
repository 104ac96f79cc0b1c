package main

import (
	"context"
	"fmt"
	"io"

	"github.com/keyward/keyward/app/config"
	"github.com/keyward/keyward/manifest"
)

func dumpConfig(getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	cfg.Dump(stdout)
	return nil
}

func printManifest(args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	p := manifestParams(cfg)
	var out []byte
	switch {
	case len(args) == 1 && args[0] == "connect":
		out, err = manifest.Connect(p)
	case len(args) == 1 && args[0] == "forge":
		out, err = manifest.Forge(p)
	default:
		return fmt.Errorf("%w: manifest needs connect or forge", errUsage)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

func manifestParams(cfg *config.Config) manifest.Params {
	return manifest.Params{AppKey: cfg.ConnectAppKey, BaseURL: cfg.BaseURL, ForgeAppID: cfg.ForgeAppID}
}

func migrate(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
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
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	current, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	log.WithField("applied", applied).WithField("version", current).WithField("database", db.Dialect()).Info("migrations applied")
	fmt.Fprintf(stdout, "schema at version %d (%d applied)\n", current, len(applied))
	return nil
}
