package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.OpenEmpty(t, d)
			if db.Dialect() != d {
				t.Fatalf("Dialect() = %q, want %q", db.Dialect(), d)
			}

			err := db.CheckSchema(ctx)
			if !errors.Is(err, store.ErrSchemaOutdated) {
				t.Fatalf("CheckSchema on an empty database = %v, want ErrSchemaOutdated", err)
			}
			if !strings.Contains(err.Error(), "migrate") {
				t.Errorf("outdated message %q does not tell to run migrate", err)
			}

			first := storetest.Migrate(t, db)
			if len(first) == 0 {
				t.Fatal("first Migrate applied nothing")
			}
			if again := storetest.Migrate(t, db); len(again) != 0 {
				t.Errorf("second Migrate applied %v, want nothing", again)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Errorf("CheckSchema after migrate: %v", err)
			}
			current, target, err := db.SchemaVersion(ctx)
			if err != nil || current != target || current != first[len(first)-1] {
				t.Errorf("SchemaVersion = %d, %d, %v; want both %d", current, target, err, first[len(first)-1])
			}
			if err := db.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}
