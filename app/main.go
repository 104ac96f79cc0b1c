// Command keyward serves the keyward API (default subcommand `serve`) and
// runs its maintenance commands: migrate, run-job, seed, config, manifest,
// version and help.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usage is the help text. The job names come from the registered jobs
// (registeredJobs), so a new job shows up here by itself.
func usage() string {
	return `usage: keyward [command]

commands:
  serve             run the HTTP server and scheduler (default)
  migrate           apply database migrations and exit
  run-job NAME      run one job once and print its outcome
                    [-tenant ID: one site, by keyward's tenant id]
                    jobs: ` + strings.Join(jobNames(), ", ") + `
  seed --demo       fill the local dev site with demo data
                    [--users 400 --keys 4000 --access-log 40000 --tenant dev]
  config            print the configuration with secrets masked
  manifest connect  print the rendered Connect descriptor
  manifest forge    print the rendered Forge manifest.yml
  version           print the version
  help              print this list

Configuration comes from KEYWARD_* environment variables (see README).
`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "keyward:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage())
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errUsage marks a command line keyward cannot run; main prints the help
// after it.
var errUsage = errors.New("usage")

// run dispatches a subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stderr)
	case "migrate":
		return migrate(ctx, getenv, stdout, stderr)
	case "run-job":
		return runJob(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seedDemo(ctx, args, getenv, stdout, stderr)
	case "config":
		return dumpConfig(getenv, stdout)
	case "manifest":
		return printManifest(args, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "keyward", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}
