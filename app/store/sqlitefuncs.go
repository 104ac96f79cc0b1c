package store

import (
	"database/sql/driver"
	"strings"

	sqlite "github.com/glebarez/go-sqlite"
)

// SQLite's built-in lower() folds ASCII only, while search terms are
// lower-cased in Go with Unicode rules: a key named "ÄRGER" would never be
// found by "ärger" (PostgreSQL's LOWER() folds Unicode). keyward's SQLite
// connections therefore get a lower() with Go's rules. No SQLite index is
// built on lower(), so replacing it changes no stored index.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("lower", 1, unicodeLower)
}

func unicodeLower(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch v := args[0].(type) {
	case string:
		return strings.ToLower(v), nil
	case []byte:
		return strings.ToLower(string(v)), nil
	default:
		return v, nil
	}
}
