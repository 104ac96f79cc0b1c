-- Change notices for verifier caches (see the PostgreSQL migration).

-- +goose Up
CREATE TABLE credential_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    changed_at    DATETIME NOT NULL
);
CREATE INDEX credential_changes_at ON credential_changes (changed_at);

-- +goose Down
DROP TABLE credential_changes;
