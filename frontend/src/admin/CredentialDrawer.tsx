import { useState } from 'react';
import { ADMIN, get, post } from '../api';
import type { Credential, CredentialDetail } from '../types';
import { Banner, Button, Dialog, Empty, ErrorBanner, Field, Loading, Lozenge, StatusLozenge, Time, fieldErr, useAsync } from '../ui';
import { count } from '../format';
import { scopeLabel } from '../scopes';
import { AccessTable } from './AccessLog';

/** CredentialDrawer shows one credential with its recent access and revokes it with a reason. */
export function CredentialDrawer({ id, onClose, onChanged }: { id: string; onClose: () => void; onChanged: () => void }) {
  const d = useAsync(() => get<CredentialDetail>(`${ADMIN}/credentials/${encodeURIComponent(id)}`), [id]);
  const [revoking, setRevoking] = useState(false);
  const c = d.data?.credential;
  return (
    <Dialog variant="drawer" title={c ? c.name || '(unnamed)' : 'Credential'} onClose={onClose}>
      {d.loading && <Loading />}
      {d.error ? <ErrorBanner error={d.error} onRetry={d.reload} /> : null}
      {c && (
        <>
          <div className="btn-group" style={{ marginBottom: 16 }}>
            <StatusLozenge status={c.status} />
            {c.kind === 'oauth_grant' ? <Lozenge appearance="new">OAuth grant</Lozenge> : <Lozenge>API key</Lozenge>}
            {c.status !== 'revoked' && (
              <Button appearance="danger" onClick={() => setRevoking(true)}>
                Revoke…
              </Button>
            )}
          </div>
          {c.status === 'revoked' && (
            <Banner appearance="warning" title="Revoked">
              <Time iso={c.revokedAt} mode="absolute" /> by {c.revokedBy || 'unknown'}
              {c.revokeReason ? <>: “{c.revokeReason}”</> : null}
            </Banner>
          )}
          <Props c={c} />
          <h3>Recent access</h3>
          {d.data!.recentAccess?.length ? <AccessTable items={d.data!.recentAccess} compact /> : <Empty title="No recorded use">This credential has not been used, or its access log was pruned.</Empty>}
          {revoking && (
            <RevokeOne
              c={c}
              onClose={() => setRevoking(false)}
              onDone={() => {
                setRevoking(false);
                d.reload();
                onChanged();
              }}
            />
          )}
        </>
      )}
    </Dialog>
  );
}

function Props({ c }: { c: Credential }) {
  return (
    <dl className="props">
      <dt>Key hint</dt>
      <dd className="mono">{c.hint || '—'}</dd>
      <dt>ID</dt>
      <dd className="mono">{c.id}</dd>
      <dt>Owner</dt>
      <dd>
        {c.owner?.displayName || '—'} <span className="mono muted">{c.owner?.accountId}</span> {c.owner?.active === false && <Lozenge appearance="removed">inactive</Lozenge>}
      </dd>
      {c.clientId && (
        <>
          <dt>OAuth client</dt>
          <dd className="mono">{c.clientId}</dd>
        </>
      )}
      <dt>Access</dt>
      <dd>{c.access === 'full' ? 'Full access' : c.scopes?.length ? c.scopes.map(scopeLabel).join(', ') : '—'}</dd>
      <dt>Created</dt>
      <dd>
        <Time iso={c.createdAt} mode="absolute" /> (<Time iso={c.createdAt} />)
      </dd>
      <dt>Expires</dt>
      <dd>{c.expiresAt ? <><Time iso={c.expiresAt} mode="absolute" /> (<Time iso={c.expiresAt} />)</> : 'never'}</dd>
      <dt>Last used</dt>
      <dd>{c.lastUsedAt ? <><Time iso={c.lastUsedAt} mode="absolute" /> (<Time iso={c.lastUsedAt} />)</> : 'never'}</dd>
      <dt>Last IP</dt>
      <dd className="mono">{c.lastUsedIp || '—'}</dd>
      <dt>Last user agent</dt>
      <dd className="small">{c.lastUsedUserAgent || '—'}</dd>
      <dt>Uses</dt>
      <dd>{count(c.useCount)}</dd>
      {c.revokedAt && (
        <>
          <dt>Revoked</dt>
          <dd>
            <Time iso={c.revokedAt} mode="absolute" /> by {c.revokedBy || 'unknown'}
          </dd>
          <dt>Reason</dt>
          <dd>{c.revokeReason || '—'}</dd>
        </>
      )}
    </dl>
  );
}

/** RevokeOne revokes a single credential with a required reason. */
export function RevokeOne({ c, onClose, onDone, path }: { c: { id: string; name: string; hint?: string }; onClose: () => void; onDone: () => void; path?: string }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async () => {
    if (!reason.trim()) return;
    setBusy(true);
    setErr(null);
    try {
      await post(path ?? `${ADMIN}/credentials/${encodeURIComponent(c.id)}/revoke`, { reason: reason.trim() });
      onDone();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Revoke “${c.name || c.hint}”?`}
      width="small"
      onClose={onClose}
      onSubmit={submit}
      footer={
        <>
          <Button appearance="subtle" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" appearance="danger" loading={busy} disabled={!reason.trim()}>
            Revoke
          </Button>
        </>
      }
    >
      <p>It stops working within seconds. This cannot be undone.</p>
      <Field id="one-reason" label="Reason" required error={fieldErr(err, 'reason')}>
        <input type="text" id="one-reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
      </Field>
      {err && !fieldErr(err, 'reason') ? <ErrorBanner error={err} /> : null}
    </Dialog>
  );
}
