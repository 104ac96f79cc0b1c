package inventory

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// fakeStore keeps one confirmation and answers the id walk from a list;
// the Store methods it does not implement panic.
type fakeStore struct {
	Store
	ids  []string // what the selection matches, in byte order
	conf *store.Confirmation
	used bool
}

func (f *fakeStore) EachCredentialID(_ context.Context, _ store.CredentialFilter, fn func(string) error) error {
	for _, id := range f.ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeStore) ListCredentials(context.Context, store.CredentialFilter, store.CredentialPage) ([]store.InventoryCredential, error) {
	return nil, nil
}

func (f *fakeStore) CreateConfirmation(_ context.Context, c *store.Confirmation) error {
	cc := *c
	f.conf = &cc
	return nil
}

func (f *fakeStore) ConfirmationForUpdate(_ context.Context, _, id string) (*store.Confirmation, error) {
	if f.conf == nil || f.conf.ID != id {
		return nil, models.ErrNotFound
	}
	cc := *f.conf
	return &cc, nil
}

func (f *fakeStore) UseConfirmation(context.Context, string, string, time.Time) error {
	f.used = true
	return nil
}

// fakeRevoker revokes a fixed set, as a concurrent change between the
// id walk and the update's row locks would make it.
type fakeRevoker struct{ ids []string }

func (r *fakeRevoker) Revoke(context.Context, store.RevokeFilter, credentials.Revocation) ([]models.Credential, error) {
	out := make([]models.Credential, len(r.ids))
	for i, id := range r.ids {
		out[i].ID = id
	}
	return out, nil
}

type fakeAudit struct{ n int }

func (a *fakeAudit) Record(context.Context, models.AuditEvent) error { a.n++; return nil }

type fakeTx struct{ rolledBack bool }

func (t *fakeTx) InTx(ctx context.Context, fn func(context.Context) error) error {
	err := fn(ctx)
	t.rolledBack = err != nil
	return err
}

// TestConfirmRevokeChecksWhatItRevoked: the confirmation compares the
// digest of what its update actually changed, not only what the selection
// matched a moment before: a swap that slips in between rolls back.
func TestConfirmRevokeChecksWhatItRevoked(t *testing.T) {
	l := logrus.New()
	l.SetOutput(io.Discard)
	for _, tc := range []struct {
		name    string
		revoked []string
		want    error
	}{
		{"exactly the preview", []string{"b", "a"}, nil},
		{"swapped", []string{"a", "c"}, ErrSelectionChanged},
		{"grown", []string{"a", "b", "c"}, ErrSelectionChanged},
		{"shrunk", []string{"a"}, ErrSelectionChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{ids: []string{"a", "b"}}
			audit, tx := &fakeAudit{}, &fakeTx{}
			s := NewService(st, &fakeRevoker{ids: tc.revoked}, nil, audit, tx, logrus.NewEntry(l))
			admin := Admin{TenantID: "t", AccountID: "admin"}
			pv, err := s.PreviewRevoke(context.Background(), admin, Selection{All: true})
			if err != nil || pv.Count != 2 {
				t.Fatalf("preview: %+v %v", pv, err)
			}
			n, err := s.ConfirmRevoke(context.Background(), admin, pv.Confirmation, "why")
			if !errors.Is(err, tc.want) {
				t.Fatalf("confirm: %d %v, want %v", n, err, tc.want)
			}
			if tc.want != nil && (!tx.rolledBack || audit.n != 0 || !errors.Is(err, models.ErrConflict)) {
				t.Errorf("refused confirmation: rolled back %v, audit rows %d, err %v", tx.rolledBack, audit.n, err)
			}
			if tc.want == nil && (n != 2 || audit.n != 1) {
				t.Errorf("confirm: %d revoked, %d audit rows", n, audit.n)
			}
		})
	}
}
