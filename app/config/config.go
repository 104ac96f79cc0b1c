// Package config loads keyward's typed configuration from KEYWARD_*
// environment variables, validates it and prints it with secrets masked.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bytesize "github.com/labstack/gommon/bytes"
)

// Config is the whole configuration of one keyward process.
type Config struct {
	Addr                  string        `env:"KEYWARD_ADDR"`
	BaseURL               string        `env:"KEYWARD_BASE_URL"`
	DatabaseURL           string        `env:"KEYWARD_DATABASE_URL" secret:"url"`
	DataDir               string        `env:"KEYWARD_DATA_DIR"`
	EncryptionKey         string        `env:"KEYWARD_ENCRYPTION_KEY" secret:"true"`
	ConnectAppKey         string        `env:"KEYWARD_CONNECT_APP_KEY"`
	ConnectInstallKeysURL string        `env:"KEYWARD_CONNECT_INSTALL_KEYS_URL"`
	ForgeAppID            string        `env:"KEYWARD_FORGE_APP_ID"`
	ForgeJWKSURL          string        `env:"KEYWARD_FORGE_JWKS_URL"`
	JWTLeeway             time.Duration `env:"KEYWARD_JWT_LEEWAY"`
	LogFormat             string        `env:"KEYWARD_LOG_FORMAT"`
	LogLevel              string        `env:"KEYWARD_LOG_LEVEL"`
	BodyLimit             string        `env:"KEYWARD_BODY_LIMIT"`
	ShutdownTimeout       time.Duration `env:"KEYWARD_SHUTDOWN_TIMEOUT"`
	VerifyTokens          []string      `env:"KEYWARD_VERIFY_TOKENS" secret:"true"`
	AccessLog             bool          `env:"KEYWARD_ACCESS_LOG"`
	AccessLogQueue        int           `env:"KEYWARD_ACCESS_LOG_QUEUE"`
	UsageFlushInterval    time.Duration `env:"KEYWARD_USAGE_FLUSH_INTERVAL"`
	RevocationPoll        time.Duration `env:"KEYWARD_REVOCATION_POLL"`
	DefaultMaxKeyDays     int           `env:"KEYWARD_MAX_KEY_DAYS"`
	Scheduler             bool          `env:"KEYWARD_SCHEDULER"`
	Dev                   bool          `env:"KEYWARD_DEV"`
	OAuthAccessTTL        time.Duration `env:"KEYWARD_OAUTH_ACCESS_TTL"`
	OAuthRefreshTTL       time.Duration `env:"KEYWARD_OAUTH_REFRESH_TTL"`
	OAuthCodeTTL          time.Duration `env:"KEYWARD_OAUTH_CODE_TTL"`
	ForgeConsentURL       string        `env:"KEYWARD_FORGE_CONSENT_URL"`
	ReconcileSchedule     string        `env:"KEYWARD_RECONCILE_SCHEDULE"`
	PDRSchedule           string        `env:"KEYWARD_PDR_SCHEDULE"`
	WeeklyReportSchedule  string        `env:"KEYWARD_WEEKLY_REPORT_SCHEDULE"`
	ReconcileConcurrency  int           `env:"KEYWARD_RECONCILE_CONCURRENCY"`
	WebhookWorkers        int           `env:"KEYWARD_WEBHOOK_WORKERS"`
	AllowPrivateWebhooks  bool          `env:"KEYWARD_ALLOW_PRIVATE_WEBHOOKS"`
	WebhookMaxAttempts    int           `env:"KEYWARD_WEBHOOK_MAX_ATTEMPTS"`
	WebhookPoll           time.Duration `env:"KEYWARD_WEBHOOK_POLL"`
	AtlassianAPIURL       string        `env:"KEYWARD_ATLASSIAN_API_URL"`
}

// Defaults used when a variable is unset.
const (
	DefaultAddr               = ":8080"
	DefaultDataDir            = "./data"
	DefaultInstallKeysURL     = "https://connect-install-keys.atlassian.com"
	DefaultForgeJWKSURL       = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
	DefaultConnectAppKey      = "io.keyward.tempo-access"
	MaxJWTLeeway              = 30 * time.Second
	encryptionKeyFile         = "encryption.key"
	defaultLocalBaseURL       = "http://localhost:8080"
	maxKeyLifetimeDaysCeiling = 5000
)

// Load reads the environment through getenv (os.Getenv in production),
// applies defaults and validates. Errors name the offending variable.
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{}
	var errs []error
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration like 10s or 1m", name, v))
			return def
		}
		return d
	}
	boolean := func(name string, def bool) bool {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			return true
		case "0", "false", "no", "off":
			return false
		}
		errs = append(errs, fmt.Errorf("%s: %q is not a boolean (use on/off, true/false, yes/no or 1/0)", name, v))
		return def
	}
	integer := func(name string, def, lo, hi int) int {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s: %q must be an integer from %d to %d", name, v, lo, hi))
			return def
		}
		return n
	}

	c.Addr = str("KEYWARD_ADDR", DefaultAddr)
	c.BaseURL = strings.TrimRight(str("KEYWARD_BASE_URL", localBaseURL(c.Addr)), "/")
	c.DatabaseURL = str("KEYWARD_DATABASE_URL", "")
	c.DataDir = str("KEYWARD_DATA_DIR", DefaultDataDir)
	c.EncryptionKey = str("KEYWARD_ENCRYPTION_KEY", "")
	c.ConnectAppKey = str("KEYWARD_CONNECT_APP_KEY", DefaultConnectAppKey)
	c.ConnectInstallKeysURL = strings.TrimRight(str("KEYWARD_CONNECT_INSTALL_KEYS_URL", DefaultInstallKeysURL), "/")
	c.ForgeAppID = str("KEYWARD_FORGE_APP_ID", "")
	c.ForgeJWKSURL = str("KEYWARD_FORGE_JWKS_URL", DefaultForgeJWKSURL)
	c.JWTLeeway = dur("KEYWARD_JWT_LEEWAY", 10*time.Second)
	c.LogFormat = strings.ToLower(str("KEYWARD_LOG_FORMAT", "json"))
	c.LogLevel = strings.ToLower(str("KEYWARD_LOG_LEVEL", "info"))
	c.BodyLimit = str("KEYWARD_BODY_LIMIT", "1M")
	c.ShutdownTimeout = dur("KEYWARD_SHUTDOWN_TIMEOUT", 15*time.Second)
	if v := strings.TrimSpace(getenv("KEYWARD_VERIFY_TOKENS")); v != "" {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				c.VerifyTokens = append(c.VerifyTokens, t)
			}
		}
	}
	c.AccessLog = boolean("KEYWARD_ACCESS_LOG", true)
	c.AccessLogQueue = integer("KEYWARD_ACCESS_LOG_QUEUE", 65536, 1024, 10_000_000)
	c.UsageFlushInterval = dur("KEYWARD_USAGE_FLUSH_INTERVAL", 2*time.Second)
	c.RevocationPoll = dur("KEYWARD_REVOCATION_POLL", 500*time.Millisecond)
	c.DefaultMaxKeyDays = integer("KEYWARD_MAX_KEY_DAYS", 365, 1, maxKeyLifetimeDaysCeiling)
	c.Scheduler = boolean("KEYWARD_SCHEDULER", true)
	c.Dev = boolean("KEYWARD_DEV", false)
	c.OAuthAccessTTL = dur("KEYWARD_OAUTH_ACCESS_TTL", time.Hour)
	c.OAuthRefreshTTL = dur("KEYWARD_OAUTH_REFRESH_TTL", 90*24*time.Hour)
	c.OAuthCodeTTL = dur("KEYWARD_OAUTH_CODE_TTL", 60*time.Second)
	c.ForgeConsentURL = str("KEYWARD_FORGE_CONSENT_URL", "")
	c.ReconcileSchedule = str("KEYWARD_RECONCILE_SCHEDULE", "*/15 * * * *")
	c.PDRSchedule = str("KEYWARD_PDR_SCHEDULE", "0 3 * * *")
	c.WeeklyReportSchedule = str("KEYWARD_WEEKLY_REPORT_SCHEDULE", "0 6 * * 1")
	c.ReconcileConcurrency = integer("KEYWARD_RECONCILE_CONCURRENCY", 8, 1, 64)
	c.WebhookWorkers = integer("KEYWARD_WEBHOOK_WORKERS", 4, 1, 64)
	c.AllowPrivateWebhooks = boolean("KEYWARD_ALLOW_PRIVATE_WEBHOOKS", false)
	c.WebhookMaxAttempts = integer("KEYWARD_WEBHOOK_MAX_ATTEMPTS", 8, 1, 100)
	c.WebhookPoll = dur("KEYWARD_WEBHOOK_POLL", 250*time.Millisecond)
	c.AtlassianAPIURL = strings.TrimRight(str("KEYWARD_ATLASSIAN_API_URL", "https://api.atlassian.com"), "/")

	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (c *Config) validate() []error {
	var errs []error
	if err := checkAddr(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("KEYWARD_ADDR: %q %w", c.Addr, err))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("KEYWARD_BASE_URL: %q is not an absolute http(s) URL without query", c.BaseURL))
	} else if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		errs = append(errs, fmt.Errorf("KEYWARD_BASE_URL: %q must use https (Atlassian only calls HTTPS apps; http is allowed for localhost)", c.BaseURL))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("KEYWARD_DATABASE_URL: must be empty (embedded SQLite) or a postgres:// URL"))
	}
	if c.EncryptionKey != "" {
		if _, err := DecodeKey(c.EncryptionKey); err != nil {
			errs = append(errs, fmt.Errorf("KEYWARD_ENCRYPTION_KEY: %w", err))
		}
	} else if c.DatabaseURL != "" {
		errs = append(errs, errors.New("KEYWARD_ENCRYPTION_KEY: required with PostgreSQL (generate one with `openssl rand -base64 32`)"))
	}
	for name, v := range map[string]string{"KEYWARD_CONNECT_INSTALL_KEYS_URL": c.ConnectInstallKeysURL, "KEYWARD_FORGE_JWKS_URL": c.ForgeJWKSURL} {
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute http(s) URL", name, v))
		}
	}
	if c.ForgeAppID != "" && !strings.HasPrefix(c.ForgeAppID, "ari:cloud:ecosystem::app/") {
		errs = append(errs, fmt.Errorf("KEYWARD_FORGE_APP_ID: %q must look like ari:cloud:ecosystem::app/<uuid>", c.ForgeAppID))
	}
	if c.JWTLeeway > MaxJWTLeeway {
		errs = append(errs, fmt.Errorf("KEYWARD_JWT_LEEWAY: %s exceeds the maximum of %s", c.JWTLeeway, MaxJWTLeeway))
	}
	if n, err := bytesize.Parse(c.BodyLimit); err != nil || n <= 0 {
		errs = append(errs, fmt.Errorf("KEYWARD_BODY_LIMIT: %q is not a size like 1M or 512K", c.BodyLimit))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("KEYWARD_LOG_FORMAT: %q must be json or text", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "warning", "error":
	default:
		errs = append(errs, fmt.Errorf("KEYWARD_LOG_LEVEL: %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.UsageFlushInterval <= 0 || c.UsageFlushInterval > 5*time.Second {
		errs = append(errs, fmt.Errorf("KEYWARD_USAGE_FLUSH_INTERVAL: %s must be more than 0 and at most 5s", c.UsageFlushInterval))
	}
	if c.RevocationPoll <= 0 || c.RevocationPoll > time.Second {
		errs = append(errs, fmt.Errorf("KEYWARD_REVOCATION_POLL: %s must be more than 0 and at most 1s", c.RevocationPoll))
	}
	errs = append(errs, c.validateOAuth()...)
	errs = append(errs, c.validateOffboarding()...)
	if c.Dev {
		host, _, _ := net.SplitHostPort(c.Addr)
		if !isLoopbackHost(host) {
			errs = append(errs, fmt.Errorf("KEYWARD_DEV: dev mode requires KEYWARD_ADDR bound to loopback (e.g. 127.0.0.1:8080), not %q", c.Addr))
		}
	}
	return errs
}

// checkAddr validates a listen address: host:port, where the host is empty
// (every interface), an IP address or a DNS name, and the port a number
// from 1 to 65535, or 0 for a port the system picks. The error completes
// "KEYWARD_ADDR: <value> ...".
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not host:port (e.g. :8080 or 127.0.0.1:8080)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || port != strconv.Itoa(n) {
		return fmt.Errorf("has port %q: the port must be a number from 1 to 65535 (or 0 for any free port)", port)
	}
	if host != "" && !isIPHost(host) && !isDNSName(host) {
		return fmt.Errorf("has host %q: the host must be empty (every interface), an IP address or a host name", host)
	}
	return nil
}

// isIPHost reports whether h is an IP address, IPv6 with an optional zone
// (fe80::1%eth0).
func isIPHost(h string) bool {
	_, err := netip.ParseAddr(h)
	return err == nil
}

// isDNSName reports whether h is a host name: dot-separated labels of
// letters, digits and inner hyphens, 1 to 63 characters each, 253 in all
// (a trailing dot is allowed). The last label is not all digits, so a
// mistyped IPv4 address (256.1.1.1, 127.0.0.1.1) is not taken for a name.
func isDNSName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// localBaseURL is the default public URL: this machine on the listening
// port, so a changed KEYWARD_ADDR alone keeps OAuth redirects and the
// descriptor pointing at the running server.
func localBaseURL(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return defaultLocalBaseURL
	}
	return "http://localhost:" + port
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// UsesPostgres reports whether the configured database is PostgreSQL.
func (c *Config) UsesPostgres() bool { return c.DatabaseURL != "" }

// SQLitePath is the embedded database file under the data directory.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "keyward.db") }

// DecodeKey parses a base64 (standard or URL, padded or not) 32-byte key.
func DecodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("must decode to 32 bytes, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("must be base64 of 32 random bytes (openssl rand -base64 32)")
}

// ResolveEncryptionKey returns the configured key, or for the embedded
// default database reads (or creates once) a key file in the data directory.
// created reports whether a new key was generated.
func (c *Config) ResolveEncryptionKey(generate func() ([]byte, error)) (key []byte, created bool, err error) {
	if c.EncryptionKey != "" {
		k, err := DecodeKey(c.EncryptionKey)
		return k, false, err
	}
	path := filepath.Join(c.DataDir, encryptionKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		k, err := DecodeKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	k, err := generate()
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	return k, true, f.Sync()
}

// validateOAuth checks the OAuth lifetimes and the Forge consent page URL.
func (c *Config) validateOAuth() []error {
	var errs []error
	if c.OAuthAccessTTL < time.Minute || c.OAuthAccessTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("KEYWARD_OAUTH_ACCESS_TTL: %s must be from 1m to 24h", c.OAuthAccessTTL))
	}
	if c.OAuthRefreshTTL < c.OAuthAccessTTL || c.OAuthRefreshTTL > 5000*24*time.Hour {
		errs = append(errs, fmt.Errorf("KEYWARD_OAUTH_REFRESH_TTL: %s must be at least KEYWARD_OAUTH_ACCESS_TTL and at most 120000h", c.OAuthRefreshTTL))
	}
	if c.OAuthCodeTTL < 10*time.Second || c.OAuthCodeTTL > 10*time.Minute {
		errs = append(errs, fmt.Errorf("KEYWARD_OAUTH_CODE_TTL: %s must be from 10s to 10m", c.OAuthCodeTTL))
	}
	if v := c.ForgeConsentURL; v != "" {
		u, err := url.Parse(strings.NewReplacer("{siteUrl}", "https://site.example", "{request}", "r").Replace(v))
		if err != nil || u.Scheme != "https" || u.Host == "" || !strings.Contains(v, "{request}") {
			errs = append(errs, fmt.Errorf("KEYWARD_FORGE_CONSENT_URL: %q must be an https URL pattern containing {request} (and usually {siteUrl})", v))
		}
	}
	return errs
}
