-- Admin console: keyset indexes for the inventory's sorts and filters, and
-- the confirmations that guard bulk revocations.

-- +goose Up
-- Every inventory order is (tenant, sort key, id); these replace the
-- narrower indexes of 00001 on the same columns.
DROP INDEX credentials_tenant_last_used;
DROP INDEX credentials_tenant_expires;
DROP INDEX credentials_tenant_owner;
CREATE INDEX credentials_tenant_last_used ON credentials (tenant_id, last_used_at, id);
CREATE INDEX credentials_tenant_expires ON credentials (tenant_id, expires_at, id);
CREATE INDEX credentials_tenant_owner ON credentials (tenant_id, owner_account_id, created_at, id);
CREATE INDEX credentials_inv_name ON credentials (tenant_id, name, id);
CREATE INDEX credentials_inv_kind ON credentials (tenant_id, kind, created_at, id);
CREATE INDEX credentials_inv_revoked ON credentials (tenant_id, created_at, id) WHERE revoked_at IS NOT NULL;
CREATE INDEX users_inv_inactive ON users (tenant_id, account_id) WHERE NOT active OR deleted;
CREATE INDEX access_log_inv_owner ON access_log (tenant_id, owner_account_id, id);

-- Substring search of key names, hints and people's names uses trigram
-- indexes when the pg_trgm extension (trusted, on every managed service) can
-- be created; without it search still works, by scanning.
-- +goose StatementBegin
DO $$
DECLARE
    ext_schema TEXT;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%): inventory search will scan', SQLERRM;
    END;
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX credentials_inv_search ON credentials USING gin (LOWER(name) %1$I.gin_trgm_ops, LOWER(hint) %1$I.gin_trgm_ops)', ext_schema);
        EXECUTE format('CREATE INDEX users_inv_search ON users USING gin (LOWER(display_name) %1$I.gin_trgm_ops)', ext_schema);
    END IF;
END
$$;
-- +goose StatementEnd

CREATE TABLE admin_confirmations (
    id          TEXT PRIMARY KEY, -- SHA-256 (hex) of the confirmation token
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    selection   TEXT NOT NULL,
    count       BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX admin_confirmations_expires ON admin_confirmations (expires_at);

-- +goose Down
DROP TABLE admin_confirmations;
DROP INDEX IF EXISTS users_inv_search;
DROP INDEX IF EXISTS credentials_inv_search;
DROP INDEX access_log_inv_owner;
DROP INDEX users_inv_inactive;
DROP INDEX credentials_inv_revoked;
DROP INDEX credentials_inv_kind;
DROP INDEX credentials_inv_name;
DROP INDEX credentials_tenant_owner;
DROP INDEX credentials_tenant_expires;
DROP INDEX credentials_tenant_last_used;
CREATE INDEX credentials_tenant_owner ON credentials (tenant_id, owner_account_id, created_at DESC);
CREATE INDEX credentials_tenant_last_used ON credentials (tenant_id, last_used_at);
CREATE INDEX credentials_tenant_expires ON credentials (tenant_id, expires_at);
