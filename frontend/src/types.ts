// DTOs of keyward's HTTP API, as the page reads them.

export type Kind = 'api_key' | 'oauth_grant';
export type Status = 'active' | 'expired' | 'revoked';

export interface Owner {
  accountId: string;
  displayName?: string;
  active?: boolean;
}

export interface Credential {
  id: string;
  kind: Kind;
  name: string;
  hint: string;
  access: 'full' | 'custom';
  scopes: string[];
  status: Status;
  owner?: Owner;
  createdAt: string;
  expiresAt?: string | null;
  lastUsedAt?: string | null;
  lastUsedIp?: string;
  lastUsedUserAgent?: string;
  useCount: number;
  revokedAt?: string | null;
  revokedBy?: string;
  revokeReason?: string;
  clientId?: string;
}

export interface Total {
  value: number;
  exact: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
  total?: Total;
}

export interface AccessLogEntry {
  id: number | string;
  at: string;
  credentialId: string;
  kind: Kind;
  ownerAccountId: string;
  method: string;
  path: string;
  decision: string;
  reason?: string;
  ip: string;
  userAgent: string;
}

export interface CredentialDetail {
  credential: Credential;
  recentAccess: AccessLogEntry[];
}

export interface RevokePreview {
  count: number;
  sample: Credential[];
  confirmation: string;
  expiresAt: string;
}

export interface UserSummary {
  accountId: string;
  displayName?: string;
  active?: boolean;
  activeCredentials: number;
  totalCredentials: number;
  lastUsedAt?: string | null;
}

export interface IssuedKey {
  key: Credential;
  secret: string;
  notice: string;
}

export interface Grant {
  id: string;
  clientId?: string;
  clientName?: string;
  scopes: string[];
  createdAt?: string;
  lastUsedAt?: string | null;
  expiresAt?: string | null;
  status?: Status;
}

export interface ConsentRequest {
  client: { id: string; name: string };
  scopes: string[];
  site: string;
  redirectHost: string;
  expiresAt: string;
  allowed?: boolean; // false: this user may only deny (the app is restricted to other people)
}

export interface OffboardingSettings {
  autoRevoke: boolean;
  gracePeriodSeconds: number;
  exemptAccountIds: string[];
  staleAfterDays: number;
  revokeStale: boolean;
  reportWebhookUrl: string;
  reportWebhookSecretSet?: boolean; // read only
  updatedAt?: string;
  updatedBy?: string;
}

export interface Job {
  name: string;
  description?: string;
  schedule?: string;
  global?: boolean; // maintains the whole deployment: runs on its schedule, not from a site
  nextRun?: string | null;
  lastScheduledRun?: JobRun | null;
  lastRuns?: JobRun[];
}

export interface JobRun {
  id: number;
  job?: string;
  triggeredBy?: string;
  status?: string;
  startedAt?: string;
  finishedAt?: string | null;
  counts?: Record<string, unknown>;
  error?: string;
}

export interface Report {
  id: string | number;
  kind?: string;
  title?: string;
  status?: string;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  ownersChecked?: number;
  revoked?: number;
  stale?: number;
  expired?: number;
  errors?: number;
  error?: string;
  summary?: unknown;
}

export interface OAuthClient {
  id: string;
  name: string;
  type?: 'confidential' | 'public';
  owner?: string;
  redirectUris?: string[];
  allowedScopes?: string[];
  secretHint?: string;
  createdAt?: string;
  activeGrants?: number;
  disabled?: boolean;
}
