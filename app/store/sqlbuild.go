package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
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
	if err := db.conn(ctx).Raw("EXPLAIN (FORMAT JSON) "+query, args...).Row().Scan(&plan); err != nil {
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
