-- +goose Up
-- state_at: timestamp of the newest user event applied to the row, so a late
-- event never overwrites a newer state. inactive_since: when keyward learnt
-- the account was inactive or deleted (grace periods count from it).
-- erased_at: personal data erased after the Personal Data Reporting API said
-- the account is closed.
ALTER TABLE users ADD COLUMN state_at DATETIME;
ALTER TABLE users ADD COLUMN inactive_since DATETIME;
ALTER TABLE users ADD COLUMN erased_at DATETIME;

CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    dedupe_key      TEXT NOT NULL,
    source          TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    active          BOOLEAN,
    display_name    TEXT NOT NULL DEFAULT '',
    account_type    TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    event_at        DATETIME NOT NULL,
    received_at     DATETIME NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    claimed_until   DATETIME,
    claimed_by      TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL DEFAULT '',
    processed_at    DATETIME
);
CREATE UNIQUE INDEX webhook_events_dedupe ON webhook_events (tenant_id, dedupe_key);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_events_tenant_status ON webhook_events (tenant_id, status, id DESC);
CREATE INDEX webhook_events_account ON webhook_events (tenant_id, account_id);

CREATE TABLE offboarding_settings (
    tenant_id                 TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    auto_revoke               BOOLEAN NOT NULL DEFAULT 1,
    grace_seconds             INTEGER NOT NULL DEFAULT 0,
    exempt_account_ids        TEXT NOT NULL DEFAULT '[]',
    stale_after_days          INTEGER NOT NULL DEFAULT 90,
    revoke_stale              BOOLEAN NOT NULL DEFAULT 0,
    report_webhook_url        TEXT NOT NULL DEFAULT '',
    report_webhook_secret_enc BLOB,
    pdr_next_at               DATETIME,
    pdr_cycle_seconds         INTEGER NOT NULL DEFAULT 0,
    updated_at                DATETIME NOT NULL,
    updated_by                TEXT NOT NULL DEFAULT ''
);

CREATE TABLE job_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job          TEXT NOT NULL,
    tenant_id    TEXT NOT NULL DEFAULT '',
    triggered_by TEXT NOT NULL,
    scheduled_at DATETIME,
    status       TEXT NOT NULL,
    replica      TEXT NOT NULL DEFAULT '',
    started_at   DATETIME NOT NULL,
    finished_at  DATETIME,
    heartbeat_at DATETIME NOT NULL,
    progress     TEXT NOT NULL DEFAULT '{}',
    counts       TEXT NOT NULL DEFAULT '{}',
    error        TEXT NOT NULL DEFAULT ''
);
-- One run per scheduled tick, whichever replica gets there first.
CREATE UNIQUE INDEX job_runs_tick ON job_runs (job, scheduled_at) WHERE scheduled_at IS NOT NULL;
CREATE INDEX job_runs_job ON job_runs (job, id DESC);
CREATE INDEX job_runs_tenant ON job_runs (tenant_id, job, id DESC);
CREATE INDEX job_runs_running ON job_runs (job, heartbeat_at) WHERE status = 'running';

CREATE TABLE reports (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    run_id         BIGINT,
    status         TEXT NOT NULL,
    started_at     DATETIME NOT NULL,
    finished_at    DATETIME NOT NULL,
    duration_ms    BIGINT NOT NULL DEFAULT 0,
    owners_checked INTEGER NOT NULL DEFAULT 0,
    revoked        INTEGER NOT NULL DEFAULT 0,
    stale          INTEGER NOT NULL DEFAULT 0,
    expired        INTEGER NOT NULL DEFAULT 0,
    errors         INTEGER NOT NULL DEFAULT 0,
    error          TEXT NOT NULL DEFAULT '',
    summary        TEXT NOT NULL DEFAULT '{}',
    delivered_at   DATETIME,
    delivery_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reports_tenant ON reports (tenant_id, id DESC);
CREATE INDEX reports_tenant_kind ON reports (tenant_id, kind, id DESC);

CREATE TABLE report_items (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id        BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    credential_id    TEXT NOT NULL DEFAULT '',
    owner_account_id TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    detail           TEXT NOT NULL DEFAULT '',
    at               DATETIME
);
CREATE INDEX report_items_report ON report_items (report_id, id);

-- +goose Down
DROP TABLE report_items;
DROP TABLE reports;
DROP TABLE job_runs;
DROP TABLE offboarding_settings;
DROP TABLE webhook_events;
ALTER TABLE users DROP COLUMN erased_at;
ALTER TABLE users DROP COLUMN inactive_since;
ALTER TABLE users DROP COLUMN state_at;
