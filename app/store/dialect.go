package store

import (
	"context"
	"fmt"

	"database/sql"
	"errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm/clause"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/keyward/keyward/models"
)

var (
	errNotFound = models.ErrNotFound
	errConflict = models.ErrConflict
)

// Dialect holds the engine-specific pieces of SQL and tuning.
type Dialect interface {
	Name() string
	tune(*sql.DB)
}

type postgresDialect struct{}

func (postgresDialect) Name() string { return "postgres" }
func (postgresDialect) tune(db *sql.DB) {
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
}

type sqliteDialect struct{}

func (sqliteDialect) Name() string { return "sqlite" }
func (sqliteDialect) tune(db *sql.DB) {
	// SQLite serialises writers; a small pool keeps readers concurrent (WAL)
	// without piling up writers that would only wait on the lock.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
}

// isBadText reports PostgreSQL's refusal of text it cannot store (invalid
// UTF-8, NUL): bad input, never a server fault.
func isBadText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05")
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: UNIQUE")
}

// copyRows bulk-loads rows with PostgreSQL's COPY protocol.
func (db *DB) copyRows(ctx context.Context, table string, columns []string, n int, row func(i int) []any) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy: unexpected driver connection %T", driverConn)
		}
		_, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
		return err
	})
}

// insertArgsPerStatement bounds the bound variables of one multi-row
// INSERT. SQLite allows 32766, but the driver (glebarez/go-sqlite) binds in
// O(n²) of the statement's variables: at 30000 per statement binding took
// over 90% of an access log append, about 200 is fastest.
const insertArgsPerStatement = 220

// insertRows writes rows with multi-row INSERT statements of at most
// insertArgsPerStatement variables.
func (db *DB) insertRows(ctx context.Context, table string, columns []string, n int, row func(i int) []any) error {
	per := max(1, insertArgsPerStatement/len(columns))
	placeholder := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ",") + ") VALUES "
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		var sb strings.Builder
		sb.WriteString(head)
		args := make([]any, 0, (end-start)*len(columns))
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteString(placeholder)
			args = append(args, row(i)...)
		}
		if err := db.conn(ctx).Exec(sb.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

func forUpdate() clause.Expression { return clause.Locking{Strength: "UPDATE"} }
