-- Change notices for other replicas' verifier caches. A change is stamped
-- here after its transaction commits, on the database clock, so a poller
-- that looks back a few seconds cannot miss a change whose transaction
-- ran long. A narrow append-only row costs far less than a second update
-- of the credential (every index of credentials rewritten). Rows older
-- than a few minutes are pruned; cache entries live at most 30 s.

-- +goose Up
CREATE TABLE credential_changes (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX credential_changes_at ON credential_changes (changed_at);

-- +goose Down
DROP TABLE credential_changes;
