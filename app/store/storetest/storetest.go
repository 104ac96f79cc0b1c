// Package storetest opens fresh keyward databases for tests: a file in a
// temporary directory for SQLite, a schema of its own for PostgreSQL, so
// tests run in parallel and leave nothing behind.
//
// PostgreSQL comes from KEYWARD_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it cannot
// be reached the PostgreSQL variants skip, unless
// KEYWARD_TEST_REQUIRE_POSTGRES=1, when they fail.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/keyward/keyward/app/store"
)

// Dialect names, as store.DB.Dialect reports them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DefaultPostgresURL is used when KEYWARD_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// migrationLockID is a session advisory lock that serialises test
// migrations across test binaries, so goose's own lock (a polling try-lock
// with a 5 s back-off, shared by every schema of the database) never
// has to wait.
const migrationLockID = 0x6b657977 // "keyw"

// Dialects lists every dialect the store supports, in test order.
func Dialects() []string { return []string{SQLite, Postgres} }

// ForEachDialect runs fn as a parallel subtest per dialect, each with a
// fresh, migrated database.
func ForEachDialect(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh database of the dialect with every migration
// applied. It is closed (and for PostgreSQL its schema dropped) when the
// test ends.
func Open(t testing.TB, dialect string) *store.DB {
	t.Helper()
	db := OpenEmpty(t, dialect)
	Migrate(t, db)
	return db
}

// OpenEmpty returns a fresh database with no migration applied.
func OpenEmpty(t testing.TB, dialect string) *store.DB {
	t.Helper()
	var o store.Options
	switch dialect {
	case SQLite:
		o.SQLitePath = filepath.Join(t.TempDir(), "keyward.db")
	case Postgres:
		o.PostgresURL = PostgresURL(t)
	default:
		t.Fatalf("storetest: unknown dialect %q", dialect)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, o)
	if err != nil {
		t.Fatalf("storetest: open %s: %v", dialect, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Migrate applies every migration to db, serialised with the other tests'
// migrations on PostgreSQL.
func Migrate(t testing.TB, db *store.DB) []int64 {
	t.Helper()
	var applied []int64
	SerializeMigrations(t, db.Dialect(), func() {
		var err error
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if applied, err = db.Migrate(ctx); err != nil {
			t.Fatalf("storetest: migrate: %v", err)
		}
	})
	return applied
}

// SerializeMigrations runs fn, which migrates a database of the dialect
// (e.g. through `keyward migrate`), holding the tests' migration lock on
// PostgreSQL. On SQLite it just runs fn.
func SerializeMigrations(t testing.TB, dialect string, fn func()) {
	t.Helper()
	if dialect != Postgres {
		fn()
		return
	}
	admin := adminDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatalf("storetest: migration lock connection: %v", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		t.Fatalf("storetest: migration lock: %v", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLockID)
	}()
	fn()
}

// PostgresURL creates an empty schema for the test and returns a URL whose
// search_path (a runtime parameter pgx passes on) selects it. The schema is
// dropped when the test ends; close every pool opened on the URL before
// that (t.Cleanup runs last-in first).
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := adminDB(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(baseURL())
	if err != nil {
		t.Fatalf("storetest: KEYWARD_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("synchronous_commit", "off") // tests need no durability; commits skip the WAL flush

	u.RawQuery = q.Encode()
	return u.String()
}

// RequirePostgres skips (or, with KEYWARD_TEST_REQUIRE_POSTGRES=1, fails)
// the test when PostgreSQL cannot be reached.
func RequirePostgres(t testing.TB) {
	t.Helper()
	adminDB(t)
}

func baseURL() string {
	if u := os.Getenv("KEYWARD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// adminDB returns the process-wide pool used to create and drop schemas,
// skipping or failing the test when PostgreSQL is unreachable.
func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	admin.once.Do(func() {
		db, err := sql.Open("pgx", baseURL())
		if err != nil {
			admin.err = err
			return
		}
		db.SetMaxOpenConns(8)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			admin.err = err
			return
		}
		admin.db = db
	})
	if admin.err != nil {
		msg := fmt.Sprintf("PostgreSQL unreachable at KEYWARD_TEST_POSTGRES_URL (%s): %v", redact(baseURL()), admin.err)
		if os.Getenv("KEYWARD_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg + " (required by KEYWARD_TEST_REQUIRE_POSTGRES=1)")
		}
		t.Skip(msg)
	}
	return admin.db
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
