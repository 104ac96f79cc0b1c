package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// where collects AND-ed SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// addTime adds cond with t as its argument when t is set.
func (w *where) addTime(cond string, t *time.Time) {
	if t != nil {
		w.add(cond, t.UTC())
	}
}

func (w *where) clone() *where {
	return &where{conds: append([]string(nil), w.conds...), args: append([]any(nil), w.args...)}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return "TRUE"
	}
	return strings.Join(w.conds, " AND ")
}

// nullTime scans a timestamp from either engine: PostgreSQL gives a
// time.Time; SQLite gives one for a DATETIME column and text for an
// expression such as MAX(...).
type nullTime struct {
	t     time.Time
	valid bool
}

var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

func (n *nullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.valid = false
		return nil
	case time.Time:
		n.t, n.valid = x.UTC(), true
		return nil
	case []byte:
		return n.parse(string(x))
	case string:
		return n.parse(x)
	}
	return fmt.Errorf("scan time: unsupported %T", v)
}

func (n *nullTime) parse(s string) error {
	for _, l := range sqliteTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			n.t, n.valid = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("scan time: unrecognised %q", s)
}

func (n nullTime) value() time.Time { return n.t }

func (n nullTime) ptr() *time.Time {
	if !n.valid {
		return nil
	}
	t := n.t
	return &t
}

// estimateRows returns PostgreSQL's planner estimate of the rows a query
// returns: a plan, no scan.
func (db *DB) estimateRows(ctx context.Context, query string, args []any) (int64, error) {
	var plan string
	err := db.query(ctx, "EXPLAIN (FORMAT JSON) "+query, args, func(r rows) error {
		if !r.Next() {
			return errors.New("explain gave no plan")
		}
		return r.Scan(&plan)
	})
	if err != nil {
		return 0, err
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &out); err != nil || len(out) == 0 {
		return 0, fmt.Errorf("read query plan: %w", err)
	}
	return int64(out[0].Plan.Rows), nil
}

// errOverBudget reports a count that ran out of its time budget.
var errOverBudget = errors.New("count over its time budget")

// planned runs fn's queries, on PostgreSQL, in a transaction that plans
// them for their actual parameters: pgx prepares statements, and after
// five runs PostgreSQL may switch a prepared statement to a generic plan,
// which cannot estimate a LIKE nor use a trigram index for an unknown
// pattern. With budget > 0 the transaction's statements also get at most
// that long, and running out gives errOverBudget; never give a budget
// inside a transaction, which the cancelled statement would abort.
func (db *DB) planned(ctx context.Context, budget time.Duration, fn func(ctx context.Context) error) error {
	if !db.IsPostgres() {
		return fn(ctx)
	}
	err := db.InTx(ctx, func(ctx context.Context) error {
		set := "SET LOCAL plan_cache_mode = force_custom_plan"
		if err := db.conn(ctx).Exec(set).Error; err != nil {
			return err
		}
		if budget > 0 {
			if err := db.conn(ctx).Exec(fmt.Sprintf("SET LOCAL statement_timeout = %d", max(budget.Milliseconds(), 1))).Error; err != nil {
				return err
			}
		}
		return fn(ctx)
	})
	var pgErr *pgconn.PgError
	if budget > 0 && errors.As(err, &pgErr) && pgErr.Code == "57014" { // query_canceled
		return errOverBudget
	}
	return err
}

// boundedCount counts the rows of query, stopping after upTo+1.
func (db *DB) boundedCount(ctx context.Context, query string, args []any, upTo int) (int64, error) {
	var n int64
	err := db.conn(ctx).Raw(fmt.Sprintf("SELECT COUNT(*) FROM (%s LIMIT %d) bounded", query, upTo+1), args...).Row().Scan(&n)
	return n, err
}

// rows is what both database/sql and pgx result sets offer.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// query runs a read with the store's ? placeholders and hands its rows to
// fn. On PostgreSQL outside a transaction it goes straight to pgx with an
// unnamed statement whose description pgx caches: every run is planned for
// its actual parameters (a cached generic plan can neither estimate a LIKE
// nor use a trigram index for an unknown pattern), results come in binary,
// and rows are decoded without database/sql's per-value boxing, which
// matters when exports stream millions of rows.
func (db *DB) query(ctx context.Context, q string, args []any, fn func(r rows) error) error {
	if inTx := txOf(ctx) != nil; inTx || !db.IsPostgres() {
		r, err := db.conn(ctx).Raw(q, args...).Rows()
		if err != nil {
			return err
		}
		defer r.Close()
		if err := fn(r); err != nil {
			return err
		}
		return r.Err()
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("query: unexpected driver connection %T", driverConn)
		}
		sql, pgArgs := numbered(q, args)
		r, err := pc.Conn().Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, pgArgs...)...)
		if err != nil {
			return err
		}
		defer r.Close()
		if err := fn(r); err != nil {
			return err
		}
		r.Close()
		return r.Err()
	})
}

// numbered turns ? placeholders into PostgreSQL's $1, $2, …, and "IN ?"
// with a list into "= ANY($n)" with the list as one array argument.
func numbered(q string, args []any) (string, []any) {
	var b strings.Builder
	b.Grow(len(q) + 16)
	out := make([]any, 0, len(args))
	for i := 0; i < len(q); i++ {
		if q[i] != '?' || len(out) == len(args) {
			b.WriteByte(q[i])
			continue
		}
		arg := args[len(out)]
		out = append(out, arg)
		n := strconv.Itoa(len(out))
		if _, isList := arg.([]string); isList {
			s := strings.TrimRight(b.String(), " ")
			if strings.HasSuffix(s, " IN") {
				b.Reset()
				b.WriteString(s[:len(s)-2])
				b.WriteString("= ANY($" + n + ")")
				continue
			}
		}
		b.WriteString("$" + n)
	}
	return b.String(), out
}

// strings runs a query of one text column.
func (db *DB) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	var out []string
	err := db.query(ctx, q, args, func(r rows) error {
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}
