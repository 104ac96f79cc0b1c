package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward/models"
)

// Users stores the Jira accounts known to each tenant and what keyward last
// learnt about them. The verifier refuses credentials of inactive or deleted
// users, so every change of those flags also bumps the updated_at of the
// user's live credentials: caches on every replica reload them.
type Users struct{ db *DB }

// NewUsers returns the user store.
func NewUsers(db *DB) *Users { return &Users{db: db} }

// UserState is what one event says about a user.
type UserState struct {
	DisplayName string // empty: unchanged
	AccountType string // empty: unchanged
	Email       string // empty: unchanged
	Active      *bool  // nil: unchanged
	Deleted     bool   // deletion is final whatever the event order
	At          time.Time
}

type userRow struct {
	models.User
	StateAt       looseTime // read leniently: see stateAt
	InactiveSince *time.Time
	ErasedAt      *time.Time
}

// stateAt is when the state of the row was current, nil when no event or
// check was applied yet. A stored time later than now plus EventSkew (or
// one the driver cannot read: past year 9999), left by an event with a
// far-future timestamp before event times were bounded, would make every
// later event and check look older: it counts as when keyward wrote the row
// (updated_at), at the latest now.
func (u *userRow) stateAt(now time.Time) *time.Time {
	switch {
	case u.StateAt.Valid && !u.StateAt.Time.After(now.Add(EventSkew)):
		t := u.StateAt.Time
		return &t
	case !u.StateAt.Valid && !u.StateAt.Unreadable:
		return nil
	}
	t := now
	if !u.UpdatedAt.IsZero() && u.UpdatedAt.Before(now) {
		t = u.UpdatedAt.UTC()
	}
	return &t
}

// Get returns a user of the tenant.
func (s *Users) Get(ctx context.Context, tenantID, accountID string) (*models.User, error) {
	var u models.User
	if err := s.db.conn(ctx).Table("users").Where("tenant_id = ? AND account_id = ?", tenantID, accountID).Take(&u).Error; err != nil {
		return nil, translate(err, "get user")
	}
	return &u, nil
}

// ApplyEvent records what an event says about a user. Active and profile
// fields change only when the event is newer than the last one applied;
// deletion always sticks. A stored state time later than now plus
// EventSkew does not count as newer (see userRow.stateAt), so no event
// timestamp can pin a state. It reports whether the user's access changed
// (active or deleted flipped).
func (s *Users) ApplyEvent(ctx context.Context, tenantID, accountID string, st UserState) (changed bool, err error) {
	at := st.At.UTC()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.insertMissing(ctx, tenantID, []string{accountID}, at); err != nil {
			return err
		}
		var cur userRow
		q := s.db.conn(ctx).Table("users").Where("tenant_id = ? AND account_id = ?", tenantID, accountID)
		if s.db.IsPostgres() {
			q = q.Clauses(forUpdate())
		}
		if err := q.Take(&cur).Error; err != nil {
			return err
		}
		next := cur.User
		stateAt := cur.stateAt(time.Now().UTC())
		newer := stateAt == nil || !at.Before(*stateAt)
		fields := map[string]any{}
		if newer {
			if st.Active != nil {
				next.Active = *st.Active
			}
			if st.DisplayName != "" && cur.ErasedAt == nil {
				fields["display_name"] = st.DisplayName
			}
			if st.AccountType != "" {
				fields["account_type"] = st.AccountType
			}
			if st.Email != "" && cur.ErasedAt == nil {
				fields["email"] = st.Email
			}
			fields["state_at"] = at
		}
		next.Deleted = cur.Deleted || st.Deleted
		changed = next.Active != cur.Active || next.Deleted != cur.Deleted
		if len(fields) == 0 && !changed {
			return nil
		}
		now := time.Now().UTC()
		fields["active"], fields["deleted"], fields["updated_at"] = next.Active, next.Deleted, now
		switch {
		case next.Active && !next.Deleted:
			fields["inactive_since"] = nil
		case cur.InactiveSince == nil:
			fields["inactive_since"] = now
		}
		if err := s.db.conn(ctx).Table("users").Where("tenant_id = ? AND account_id = ?", tenantID, accountID).Updates(fields).Error; err != nil {
			return err
		}
		if changed {
			return s.touchCredentials(ctx, tenantID, []string{accountID})
		}
		return nil
	})
	return changed, translate(err, "apply user event")
}

// UserCheck is one user as Jira's user API reported them.
type UserCheck struct {
	AccountID   string
	Found       bool // false: Jira does not know the account (deleted)
	Active      bool
	DisplayName string
	AccountType string
	Email       string
	KeepAccess  bool // exempt: record the profile, leave active/deleted as they are
	Revoking    bool // the caller revokes the account's credentials next: no need to reload them
}

// ApplyChecks records a batch of users fetched from Jira at time at (which
// becomes their checked_at, the "updatedAt" of personal data reporting). A
// check is the current truth, so it sets active and deleted both ways,
// unless an event newer than at was applied meanwhile (a stored state time
// later than at plus EventSkew counts as at at the latest: see
// userRow.stateAt). It returns the accounts whose access changed, and the
// accounts it left alone because a newer state was applied (superseded):
// a caller must not act on those checks (e.g. revoke).
func (s *Users) ApplyChecks(ctx context.Context, tenantID string, checks []UserCheck, at time.Time) (changed, superseded []string, err error) {
	if len(checks) == 0 {
		return nil, nil, nil
	}
	at = at.UTC()
	ids := make([]string, len(checks))
	for i, c := range checks {
		ids[i] = c.AccountID
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.rowsForUpdate(ctx, tenantID, ids)
		if err != nil {
			return err
		}
		if len(cur) < len(ids) {
			if err := s.insertMissing(ctx, tenantID, ids, at); err != nil {
				return err
			}
			if cur, err = s.rowsForUpdate(ctx, tenantID, ids); err != nil {
				return err
			}
		}
		byID := make(map[string]*userRow, len(cur))
		for i := range cur {
			byID[cur[i].AccountID] = &cur[i]
		}
		var (
			sb             strings.Builder
			touch, updated []string
		)
		args := make([]any, 0, len(checks)*6+4)
		n := 0
		for _, c := range checks {
			u := byID[c.AccountID]
			if u == nil {
				continue
			}
			if st := u.stateAt(at); st != nil && st.After(at) {
				superseded = append(superseded, c.AccountID)
				continue
			}
			active, deleted := c.Found && c.Active, !c.Found
			if c.KeepAccess {
				active, deleted = u.Active, u.Deleted
			}
			if active != u.Active || deleted != u.Deleted {
				changed = append(changed, c.AccountID)
				if !c.Revoking {
					touch = append(touch, c.AccountID)
				}
			}
			name, email := c.DisplayName, c.Email
			if u.ErasedAt != nil {
				name, email = "", ""
			}
			if n > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?, ?, ?, ?, CAST(? AS BOOLEAN), CAST(? AS BOOLEAN))")
			args = append(args, c.AccountID, name, c.AccountType, email, active, deleted)
			updated = append(updated, c.AccountID)
			n++
		}
		if n == 0 {
			return nil
		}
		// VALUES columns are column1..column6 on both engines.
		q := `UPDATE users SET
			display_name = CASE WHEN v.column2 <> '' THEN v.column2 ELSE users.display_name END,
			account_type = CASE WHEN v.column3 <> '' THEN v.column3 ELSE users.account_type END,
			email = CASE WHEN v.column4 <> '' THEN v.column4 ELSE users.email END,
			inactive_since = CASE WHEN v.column5 AND NOT v.column6 THEN NULL ELSE COALESCE(users.inactive_since, ?) END,
			active = v.column5, deleted = v.column6, checked_at = ?, state_at = ?, updated_at = ?
			FROM (VALUES ` + sb.String() + `) AS v
			WHERE users.tenant_id = ? AND users.account_id = v.column1 AND users.account_id IN ?`
		// The IN list lets the planner reach the rows through the primary
		// key whatever its statistics say about the VALUES join.
		args = append([]any{at, at, at, at}, args...)
		if err := s.db.conn(ctx).Exec(q, append(args, tenantID, updated)...).Error; err != nil {
			return err
		}
		return s.touchCredentials(ctx, tenantID, touch)
	})
	return changed, superseded, translate(err, "apply user checks")
}

// InactiveSince returns when keyward learnt that each of the accounts
// that are inactive or deleted became so.
func (s *Users) InactiveSince(ctx context.Context, tenantID string, accountIDs []string) (map[string]time.Time, error) {
	var rows []struct {
		AccountID     string
		InactiveSince *time.Time
	}
	err := s.db.conn(ctx).Table("users").Select("account_id, inactive_since").
		Where("tenant_id = ? AND account_id IN ? AND inactive_since IS NOT NULL", tenantID, accountIDs).Find(&rows).Error
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.AccountID] = *r.InactiveSince
	}
	return out, translate(err, "inactive since")
}

// rowsForUpdate reads the users' rows locked (PostgreSQL; SQLite
// transactions are serialised) in accountId order, so a check decided on
// what it read cannot overwrite an event applied meanwhile (ApplyEvent
// locks its row too), and two lockers of overlapping sets cannot deadlock.
func (s *Users) rowsForUpdate(ctx context.Context, tenantID string, ids []string) ([]userRow, error) {
	var out []userRow
	q := s.db.conn(ctx).Table("users").Where("tenant_id = ? AND account_id IN ?", tenantID, ids).Order("account_id")
	if s.db.IsPostgres() {
		q = q.Clauses(forUpdate())
	}
	err := q.Find(&out).Error
	return out, err
}

// insertMissing creates rows (active, not deleted: what the verifier
// assumes for unknown users) for accounts the tenant has none for.
func (s *Users) insertMissing(ctx context.Context, tenantID string, ids []string, at time.Time) error {
	var sb strings.Builder
	args := make([]any, 0, len(ids)*3)
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?, ?, ?)")
		args = append(args, tenantID, id, at)
	}
	return s.db.conn(ctx).Exec(`INSERT INTO users (tenant_id, account_id, updated_at) VALUES `+sb.String()+
		` ON CONFLICT (tenant_id, account_id) DO NOTHING`, args...).Error
}

// touchCredentials makes every replica's verifier reload the live
// credentials of accounts whose access changed: their updated_at is bumped
// in the transaction, and once it commits a change notice is stamped on
// the database clock (as Credentials.Touch does for revocations), so a
// poller cannot miss a change whose transaction ran long.
func (s *Users) touchCredentials(ctx context.Context, tenantID string, accountIDs []string) error {
	now := time.Now().UTC()
	for start := 0; start < len(accountIDs); start += 500 {
		chunk := accountIDs[start:min(start+500, len(accountIDs))]
		err := s.db.conn(ctx).Table("credentials").Where("tenant_id = ? AND owner_account_id IN ? AND revoked_at IS NULL", tenantID, chunk).
			Update("updated_at", now).Error
		if err != nil {
			return err
		}
	}
	if len(accountIDs) == 0 {
		return nil
	}
	accounts := slices.Clone(accountIDs)
	s.db.AfterCommit(ctx, func() {
		ctx := context.WithoutCancel(ctx)
		for start := 0; start < len(accounts); start += 500 {
			chunk := accounts[start:min(start+500, len(accounts))]
			// Best effort: the in-transaction stamp and the cache entries'
			// 30 s life remain if this fails.
			_ = s.db.noticeChanges(ctx, "tenant_id = ? AND owner_account_id IN ? AND revoked_at IS NULL", tenantID, chunk)
		}
	})
	return nil
}

// EnsureAccounts creates rows for the accounts the tenant has none for, in
// batches, and returns how many it created.
func (s *Users) EnsureAccounts(ctx context.Context, tenantID string, ids []string) (int64, error) {
	var created int64
	now := time.Now().UTC()
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		var sb strings.Builder
		args := make([]any, 0, len(chunk)*3)
		for i, id := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?, ?, ?)")
			args = append(args, tenantID, id, now)
		}
		res := s.db.conn(ctx).Exec(`INSERT INTO users (tenant_id, account_id, updated_at) VALUES `+sb.String()+
			` ON CONFLICT (tenant_id, account_id) DO NOTHING`, args...)
		if res.Error != nil {
			return created, translate(res.Error, "ensure accounts")
		}
		created += res.RowsAffected
	}
	return created, nil
}

// ActiveOwnersPage returns up to limit distinct owners of live credentials
// (neither revoked nor expired at now) after the accountId cursor, in
// accountId order: a keyset page along the (tenant_id, owner_account_id)
// index, so a large site is read while its first batches are checked.
func (s *Users) ActiveOwnersPage(ctx context.Context, tenantID string, now time.Time, after string, limit int) ([]string, error) {
	var out []string
	err := s.db.conn(ctx).Table("credentials").Distinct("owner_account_id").
		Where("tenant_id = ? AND owner_account_id > ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", tenantID, after, now.UTC()).
		Order("owner_account_id").Limit(limit).Pluck("owner_account_id", &out).Error
	return out, translate(err, "list credential owners")
}

// RefreshStats updates the planner statistics of the users table on
// PostgreSQL after a large insert: without them the cached generic plans
// of per-batch lookups scan every row of the tenant.
func (s *Users) RefreshStats(ctx context.Context) error {
	if !s.db.IsPostgres() {
		return nil
	}
	return translate(s.db.conn(ctx).Exec("ANALYZE users").Error, "analyze users")
}

// ReportableAccount is an account whose personal data keyward stores, with
// the time that data was last fetched.
type ReportableAccount struct {
	AccountID string
	UpdatedAt time.Time
}

// EnsureOwners creates user rows for credential owners the tenant has none
// for, so every stored accountId is reported to Atlassian.
func (s *Users) EnsureOwners(ctx context.Context, tenantID string) error {
	err := s.db.conn(ctx).Exec(`INSERT INTO users (tenant_id, account_id, updated_at)
		SELECT tenant_id, owner_account_id, MIN(created_at) FROM credentials WHERE tenant_id = ?
		GROUP BY tenant_id, owner_account_id
		ON CONFLICT (tenant_id, account_id) DO NOTHING`, tenantID).Error
	return translate(err, "ensure credential owners")
}

// ForReporting pages through the tenant's accounts in accountId order,
// after the cursor, with the time their data was last fetched (checked_at,
// or when the row was written for accounts never fetched).
func (s *Users) ForReporting(ctx context.Context, tenantID, after string, limit int) ([]ReportableAccount, error) {
	var rows []struct {
		AccountID string
		CheckedAt *time.Time
		UpdatedAt time.Time
	}
	err := s.db.conn(ctx).Table("users").Select("account_id, checked_at, updated_at").
		Where("tenant_id = ? AND account_id > ?", tenantID, after).Order("account_id").Limit(limit).Find(&rows).Error
	out := make([]ReportableAccount, len(rows))
	for i, r := range rows {
		out[i] = ReportableAccount{AccountID: r.AccountID, UpdatedAt: r.UpdatedAt}
		if r.CheckedAt != nil {
			out[i].UpdatedAt = *r.CheckedAt
		}
	}
	return out, translate(err, "list accounts for reporting")
}

// ErasePersonalData removes what keyward holds about a closed account
// beyond its accountId: display name and email, the IP addresses and user
// agents in its access log records and on its credentials, and the profile
// fields of its stored events. The accountId stays on credentials, access
// log and audit records: the security record needs to say whose credential
// did what.
func (s *Users) ErasePersonalData(ctx context.Context, tenantID, accountID string, at time.Time) error {
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.insertMissing(ctx, tenantID, []string{accountID}, at.UTC()); err != nil {
			return err
		}
		steps := []struct {
			table, where string
			set          map[string]any
		}{
			{"users", "tenant_id = ? AND account_id = ?", map[string]any{"display_name": "", "email": "", "erased_at": at.UTC(), "updated_at": at.UTC()}},
			{"access_log", "tenant_id = ? AND owner_account_id = ?", map[string]any{"ip": "", "user_agent": ""}},
			{"credentials", "tenant_id = ? AND owner_account_id = ?", map[string]any{"last_used_ip": "", "last_used_ua": ""}},
			{"webhook_events", "tenant_id = ? AND account_id = ?", map[string]any{"display_name": "", "email": ""}},
		}
		for _, st := range steps {
			if err := s.db.conn(ctx).Table(st.table).Where(st.where, tenantID, accountID).Updates(st.set).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return translate(err, "erase personal data")
}
