// Command loadgen is a small HTTP load generator for keyward's
// POST /v1/verify: N workers on keep-alive connections send the same
// verification for a fixed time or request count, then it prints
// requests/s and latency percentiles. It only talks to loopback addresses.
//
// Seed a site and a key through keyward's own API (signed install, then the
// self-service API), printing the secret:
//
//	KEYWARD_CONNECT_INSTALL_KEYS_URL=http://127.0.0.1:18081 KEYWARD_BASE_URL=http://127.0.0.1:8080 ... keyward serve
//	loadgen -seed -base http://127.0.0.1:8080 -keys-addr 127.0.0.1:18081
//
// Then load /v1/verify with it:
//
//	loadgen -token $KEYWARD_VERIFY_TOKEN -secret kwk_... -c 64 -d 10s
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var (
		seed     = fs.Bool("seed", false, "install a Connect site and create an API key through the API; print the secret")
		base     = fs.String("base", "http://127.0.0.1:8080", "keyward base URL (KEYWARD_BASE_URL of the server)")
		keysAddr = fs.String("keys-addr", "127.0.0.1:18081", "seed: address to serve the install signing key on (the server's KEYWARD_CONNECT_INSTALL_KEYS_URL)")
		site     = fs.String("site", "loadgen", "seed: Connect clientKey of the site")
		account  = fs.String("account", "557058:loadgen", "seed: accountId of the key's owner")
		scopes   = fs.String("scopes", "worklogs:view", `seed: scopes of the key ("full" for full access)`)

		target   = fs.String("url", "", "verify URL (default <base>/v1/verify)")
		token    = fs.String("token", os.Getenv("LOADGEN_TOKEN"), "resource-server token (one of KEYWARD_VERIFY_TOKENS; env LOADGEN_TOKEN)")
		secret   = fs.String("secret", os.Getenv("LOADGEN_SECRET"), "API key to verify (env LOADGEN_SECRET)")
		method   = fs.String("method", "GET", "method of the verified Tempo request")
		path     = fs.String("path", "/4/worklogs/12345", "path of the verified Tempo request")
		workers  = fs.Int("c", 64, "concurrent workers, one keep-alive connection each (1-1024)")
		duration = fs.Duration("d", 10*time.Second, "measured duration (at most 10m)")
		requests = fs.Int64("n", 0, "stop after this many measured requests (0: run for -d)")
		warmup   = fs.Duration("warmup", 2*time.Second, "unmeasured warm-up before -d starts")
		active   = fs.Bool("expect-active", true, `count answers without "active":true as unexpected`)
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopback(*base); err != nil {
		return err
	}
	if *seed {
		if err := loopback("http://" + *keysAddr); err != nil {
			return err
		}
		s, err := seedKey(*base, *keysAddr, *site, *account, *scopes)
		if err != nil {
			return err
		}
		fmt.Println(s)
		return nil
	}

	if *target == "" {
		*target = *base + "/v1/verify"
	}
	switch {
	case *token == "":
		return errors.New("-token is required")
	case *secret == "":
		return errors.New("-secret is required (create one with -seed)")
	case *workers < 1 || *workers > 1024:
		return errors.New("-c must be from 1 to 1024")
	case *duration <= 0 || *duration > 10*time.Minute:
		return errors.New("-d must be more than 0 and at most 10m")
	case *requests < 0:
		return errors.New("-n must not be negative")
	}
	if err := loopback(*target); err != nil {
		return err
	}
	u, _ := url.Parse(*target)
	cfg := loadConfig{
		addr: hostPort(u), request: verifyRequest(u, *token, *secret, *method, *path),
		workers: *workers, duration: *duration, requests: *requests, warmup: *warmup, expectActive: *active,
	}
	fmt.Printf("loadgen: POST %s, %d workers, %s after %s warm-up, GOMAXPROCS %d (the server shares these cores)\n",
		*target, cfg.workers, cfg.duration, cfg.warmup, runtime.GOMAXPROCS(0))
	r, err := load(cfg)
	if err != nil {
		return err
	}
	r.print(os.Stdout)
	if r.failures() > 0 {
		return fmt.Errorf("%d failed requests", r.failures())
	}
	return nil
}

// loopback refuses URLs that are not on a loopback address: loadgen is
// for benchmarking a local server only.
func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q: want an http:// URL", raw)
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q: loadgen only targets loopback addresses", raw)
	}
	return nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}
