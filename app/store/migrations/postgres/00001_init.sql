-- +goose Up
CREATE TABLE tenants (
    id                     TEXT PRIMARY KEY,
    client_key             TEXT NOT NULL DEFAULT '',
    forge_installation_id  TEXT NOT NULL DEFAULT '',
    base_url               TEXT NOT NULL DEFAULT '',
    display_url            TEXT NOT NULL DEFAULT '',
    api_base_url           TEXT NOT NULL DEFAULT '',
    cloud_id               TEXT NOT NULL DEFAULT '',
    product_type           TEXT NOT NULL DEFAULT '',
    state                  TEXT NOT NULL,
    shared_secret_enc      BYTEA,
    forge_system_token_enc BYTEA,
    forge_system_token_at  TIMESTAMPTZ,
    max_key_lifetime_days  INTEGER NOT NULL DEFAULT 0,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    installed_at           TIMESTAMPTZ,
    uninstalled_at         TIMESTAMPTZ
);
CREATE UNIQUE INDEX tenants_client_key ON tenants (client_key) WHERE client_key <> '';
CREATE UNIQUE INDEX tenants_forge_installation ON tenants (forge_installation_id) WHERE forge_installation_id <> '';
CREATE INDEX tenants_cloud_id ON tenants (cloud_id) WHERE cloud_id <> '';

CREATE TABLE users (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    account_type  TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    checked_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, account_id)
);

CREATE TABLE credentials (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    owner_account_id TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    hint             TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL DEFAULT '',
    client_id        TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ,
    revoked_by       TEXT NOT NULL DEFAULT '',
    revoke_reason    TEXT NOT NULL DEFAULT '',
    last_used_at     TIMESTAMPTZ,
    last_used_ip     TEXT NOT NULL DEFAULT '',
    last_used_ua     TEXT NOT NULL DEFAULT '',
    use_count        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX credentials_tenant_created ON credentials (tenant_id, created_at DESC, id DESC);
CREATE INDEX credentials_tenant_owner ON credentials (tenant_id, owner_account_id, created_at DESC);
CREATE INDEX credentials_tenant_last_used ON credentials (tenant_id, last_used_at);
CREATE INDEX credentials_tenant_expires ON credentials (tenant_id, expires_at);
CREATE INDEX credentials_updated ON credentials (updated_at);

CREATE TABLE credential_secrets (
    hash          BYTEA PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ
);
CREATE INDEX credential_secrets_credential ON credential_secrets (credential_id);

CREATE TABLE access_log (
    id               BIGSERIAL PRIMARY KEY,
    tenant_id        TEXT NOT NULL DEFAULT '',
    at               TIMESTAMPTZ NOT NULL,
    credential_id    TEXT NOT NULL DEFAULT '',
    credential_kind  TEXT NOT NULL DEFAULT '',
    owner_account_id TEXT NOT NULL DEFAULT '',
    method           TEXT NOT NULL DEFAULT '',
    path             TEXT NOT NULL DEFAULT '',
    decision         TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    ip               TEXT NOT NULL DEFAULT '',
    user_agent       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX access_log_tenant ON access_log (tenant_id, id DESC);
CREATE INDEX access_log_credential ON access_log (tenant_id, credential_id, id DESC);

CREATE TABLE audit_events (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id DESC);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE access_log;
DROP TABLE credential_secrets;
DROP TABLE credentials;
DROP TABLE users;
DROP TABLE tenants;
