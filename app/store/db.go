// Package store is the GORM implementation of keyward's stores: one file per
// aggregate, every method scoped by tenant, driver errors translated to the
// error kinds of package models at this boundary.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"

	"github.com/keyward/keyward/models"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB is an open database with its dialect.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect Dialect
	dsn     string
	path    string // the SQLite file; "" on PostgreSQL
}

// Options describe which database to open.
type Options struct {
	PostgresURL string // empty: embedded SQLite at SQLitePath
	SQLitePath  string
}

// Open connects to PostgreSQL or opens (creating) the embedded SQLite file.
func Open(ctx context.Context, o Options) (*DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		PrepareStmt:            false,
	}
	var (
		g   *gorm.DB
		err error
		d   Dialect
		dsn string
	)
	if o.PostgresURL != "" {
		dsn = o.PostgresURL
		d = postgresDialect{}
		g, err = gorm.Open(postgres.Open(dsn), cfg)
	} else {
		if err := os.MkdirAll(filepath.Dir(o.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		// temp_store(MEMORY) keeps statement journals of multi-row inserts
		// off disk and cache_size(-16384) gives each connection a 16 MiB
		// page cache: together they double access log appends (see
		// BenchmarkAccessLogAppend).
		dsn = o.SQLitePath + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16384)&_txlock=immediate"
		d = sqliteDialect{}
		g, err = gorm.Open(sqlite.Open(dsn), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d.Name(), err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d.Name(), err)
	}
	d.tune(sqlDB)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d.Name(), err)
	}
	return &DB{gorm: g, sql: sqlDB, dialect: d, dsn: dsn, path: o.SQLitePath}, nil
}

// Close closes the connection pool.
func (db *DB) Close() error { return db.sql.Close() }

// Dialect names the database engine.
func (db *DB) Dialect() string { return db.dialect.Name() }

// IsPostgres reports whether the database is PostgreSQL.
func (db *DB) IsPostgres() bool { return db.dialect.Name() == "postgres" }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// SQL exposes the pool for migrations and dialect-specific work.
func (db *DB) SQL() *sql.DB { return db.sql }

type txKey struct{}

// txState is the transaction a context carries. Once the transaction has
// ended it is done, and the context (which hooks and goroutines may still
// hold) no longer joins it: store calls with it use the pool again.
type txState struct {
	tx    *gorm.DB
	hooks []func()
	done  atomic.Bool // set after commit or rollback
}

// txOf returns the live transaction ctx carries, if any.
func txOf(ctx context.Context) *txState {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && !st.done.Load() {
		return st
	}
	return nil
}

// InTx runs fn in a transaction carried by ctx; store methods called with
// that ctx join it. A nested InTx joins the outer transaction. Functions
// registered with AfterCommit run once the outermost transaction commits;
// store calls they make with the transaction's context run on the pool.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if txOf(ctx) != nil {
		return fn(ctx)
	}
	st := &txState{}
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st.tx = tx
		return fn(context.WithValue(ctx, txKey{}, st))
	})
	st.done.Store(true)
	if err != nil {
		return err
	}
	for _, f := range st.hooks {
		f()
	}
	return nil
}

// AfterCommit runs f when the transaction in ctx has committed (never if it
// rolls back), or at once when ctx carries no transaction. Use it for what
// must not be seen before the change is durable: cache evictions, change
// notices to other replicas.
func (db *DB) AfterCommit(ctx context.Context, f func()) {
	if st := txOf(ctx); st != nil {
		st.hooks = append(st.hooks, f)
		return
	}
	f()
}

// conn returns the transaction in ctx, or the pool.
func (db *DB) conn(ctx context.Context) *gorm.DB {
	if st := txOf(ctx); st != nil {
		return st.tx
	}
	return db.gorm.WithContext(ctx)
}

// translate maps driver errors to the error kinds of package models.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, errNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("%s: %w", what, errConflict)
	case isBadText(err):
		return fmt.Errorf("%s: text is not valid UTF-8 or contains NUL: %w", what, models.ErrInvalid)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
