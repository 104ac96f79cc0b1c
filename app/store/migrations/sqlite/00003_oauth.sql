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
    secret_hash      BLOB,
    secret_hint      TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    disabled_at      DATETIME
);
CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, created_at DESC);

CREATE TABLE oauth_requests (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    redirect_uri_given    BOOLEAN NOT NULL DEFAULT 1,
    scopes                TEXT NOT NULL DEFAULT '',
    state                 TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    created_at            DATETIME NOT NULL,
    expires_at            DATETIME NOT NULL,
    decided_at            DATETIME,
    decided_by            TEXT NOT NULL DEFAULT '',
    approved              BOOLEAN NOT NULL DEFAULT 0,
    code_hash             BLOB,
    code_expires_at       DATETIME,
    code_used_at          DATETIME,
    grant_id              TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX oauth_requests_code ON oauth_requests (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX oauth_requests_expires ON oauth_requests (expires_at);

CREATE TABLE oauth_refresh_tokens (
    hash        BLOB PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    grant_id    TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME,
    replaced_by BLOB
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

CREATE INDEX credentials_tenant_client ON credentials (tenant_id, client_id) WHERE client_id <> '';

-- +goose Down
DROP INDEX credentials_tenant_client;
DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_requests;
DROP TABLE oauth_clients;
