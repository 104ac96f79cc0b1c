-- +goose Up
CREATE TABLE oauth_clients (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    owner_account_id TEXT NOT NULL DEFAULT '',
    client_type      TEXT NOT NULL,
    redirect_uris    TEXT NOT NULL DEFAULT '[]',
    allowed_scopes   TEXT NOT NULL DEFAULT '',
    allowed_users    TEXT NOT NULL DEFAULT '[]',
    allowed_groups   TEXT NOT NULL DEFAULT '[]',
    secret_hash      BYTEA,
    secret_hint      TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    disabled_at      TIMESTAMPTZ
);
CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, created_at DESC);

CREATE TABLE oauth_requests (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    redirect_uri_given    BOOLEAN NOT NULL DEFAULT TRUE,
    scopes                TEXT NOT NULL DEFAULT '',
    state                 TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMPTZ NOT NULL,
    expires_at            TIMESTAMPTZ NOT NULL,
    decided_at            TIMESTAMPTZ,
    decided_by            TEXT NOT NULL DEFAULT '',
    approved              BOOLEAN NOT NULL DEFAULT FALSE,
    code_hash             BYTEA,
    code_expires_at       TIMESTAMPTZ,
    code_used_at          TIMESTAMPTZ,
    grant_id              TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX oauth_requests_code ON oauth_requests (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX oauth_requests_expires ON oauth_requests (expires_at);

CREATE TABLE oauth_refresh_tokens (
    hash        BYTEA PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    grant_id    TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    replaced_by BYTEA
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

CREATE INDEX credentials_tenant_client ON credentials (tenant_id, client_id) WHERE client_id <> '';

-- +goose Down
DROP INDEX credentials_tenant_client;
DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_requests;
DROP TABLE oauth_clients;
