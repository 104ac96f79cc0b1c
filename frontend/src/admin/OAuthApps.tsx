import { useState } from 'react';
import { ADMIN, ApiError, errorText, get, post } from '../api';
import type { OAuthClient, Page } from '../types';
import { Banner, Button, CopyButton, Dialog, Empty, ErrorBanner, Field, Loading, Lozenge, Time, Unavailable, fieldErr, useAsync } from '../ui';
import { ScopePicker, scopesFromLevels, type Levels } from '../me/ScopePicker';
import { count, plural } from '../format';
import { scopeSummary } from '../scopes';

const BASE = `${ADMIN}/oauth/clients`;

interface Created {
  client?: OAuthClient;
  clientSecret?: string;
  secret?: string;
}

/** OAuthApps registers OAuth clients, rotates their secrets and revokes their grants. */
export function OAuthApps() {
  const list = useAsync(() => get<Page<OAuthClient> | OAuthClient[]>(BASE), []);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; clientId: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<OAuthClient | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const items = Array.isArray(list.data) ? list.data : (list.data?.items ?? []);

  const rotate = async (c: OAuthClient) => {
    setErr(null);
    setMsg(null);
    try {
      const r = await post<Created>(`${BASE}/${encodeURIComponent(c.id)}/rotate-secret`, {});
      const s = r.secret ?? r.clientSecret;
      if (s) setSecret({ name: c.name, clientId: c.id, secret: s });
    } catch (e) {
      setErr(e);
    }
  };

  if (list.error instanceof ApiError && list.error.unavailable) return <Unavailable what="OAuth apps" />;
  return (
    <section id="panel-oauth" role="tabpanel" aria-labelledby="tab-oauth">
      <div className="actionbar">
        <span className="muted">Apps people in this site may authorize for scoped, revocable access to Tempo.</span>
        <Button appearance="primary" onClick={() => setCreating(true)}>
          Register app
        </Button>
      </div>
      {msg && <Banner appearance="success">{msg}</Banner>}
      {err ? <ErrorBanner error={err} /> : null}
      {list.loading ? (
        <Loading />
      ) : list.error ? (
        <ErrorBanner error={list.error} onRetry={list.reload} />
      ) : items.length === 0 ? (
        <Empty title="No OAuth apps registered">Register an app to let people grant it access without sharing API keys.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="dyn" aria-label="OAuth apps">
            <thead>
              <tr>
                <th>App</th>
                <th>Redirect URIs</th>
                <th>Scopes</th>
                <th className="num">Active grants</th>
                <th>Created</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <div className="cell-title">
                      {c.name} {c.disabled && <Lozenge appearance="removed">disabled</Lozenge>} {c.type === 'public' && <Lozenge>public</Lozenge>}
                    </div>
                    <div className="cell-sub mono">{c.id}</div>
                  </td>
                  <td className="small mono">{(c.redirectUris ?? []).join(' ')}</td>
                  <td className="small">{scopeSummary(undefined, c.allowedScopes)}</td>
                  <td className="num">{c.activeGrants === undefined ? '—' : count(c.activeGrants)}</td>
                  <td>
                    <Time iso={c.createdAt} />
                  </td>
                  <td>
                    <div className="btn-group">
                      {c.type !== 'public' && (
                        <Button appearance="subtle" onClick={() => rotate(c)}>
                          Rotate secret
                        </Button>
                      )}
                      <Button appearance="subtle" onClick={() => setRevoking(c)}>
                        Revoke grants…
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && (
        <CreateClient
          onClose={() => setCreating(false)}
          onCreated={(c, s) => {
            setCreating(false);
            list.reload();
            if (s) setSecret({ name: c.name, clientId: c.id, secret: s });
            else setMsg(`Registered ${c.name}.`);
          }}
        />
      )}
      {secret && (
        <Dialog title={`Client secret of ${secret.name}`} onClose={() => setSecret(null)} footer={<Button appearance="primary" onClick={() => setSecret(null)}>I have stored it</Button>}>
          <Banner appearance="warning" title="Shown only once">
            Store this secret in the app's configuration now. keyward keeps only a hash and cannot show it again.
          </Banner>
          <dl className="props">
            <dt>Client ID</dt>
            <dd className="mono">{secret.clientId}</dd>
          </dl>
          <div className="secret-box">
            <input type="text" readOnly value={secret.secret} aria-label="Client secret" onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={secret.secret} />
          </div>
        </Dialog>
      )}
      {revoking && (
        <RevokeGrants
          c={revoking}
          onClose={() => setRevoking(null)}
          onDone={(n) => {
            setRevoking(null);
            setMsg(`Revoked ${plural(n, 'grant')} of ${revoking.name}.`);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function CreateClient({ onClose, onCreated }: { onClose: () => void; onCreated: (c: OAuthClient, secret?: string) => void }) {
  const [name, setName] = useState('');
  const [uris, setUris] = useState('');
  const [type, setType] = useState<'confidential' | 'public'>('confidential');
  const [levels, setLevels] = useState<Levels>({});
  const [full, setFull] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async () => {
    setBusy(true);
    setErr(null);
    try {
      const r = await post<Created & OAuthClient>(BASE, { name: name.trim(), type, redirectUris: uris.split(/\s+/).filter(Boolean), allowedScopes: full ? ['full'] : scopesFromLevels(levels) });
      const client = r.client ?? (r as OAuthClient);
      onCreated(client, r.secret ?? r.clientSecret);
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Register an OAuth app"
      onClose={onClose}
      onSubmit={submit}
      width="large"
      footer={
        <>
          <Button appearance="subtle" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" appearance="primary" loading={busy} disabled={!name.trim()}>
            Register
          </Button>
        </>
      }
    >
      <Field id="oc-name" label="Name" required error={fieldErr(err, 'name')}>
        <input id="oc-name" type="text" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      </Field>
      <Field id="oc-type" label="Client type" error={fieldErr(err, 'type')}>
        <select id="oc-type" value={type} onChange={(e) => setType(e.target.value as 'confidential' | 'public')}>
          <option value="confidential">Confidential (server with a client secret)</option>
          <option value="public">Public (native or browser app, PKCE)</option>
        </select>
      </Field>
      <Field id="oc-uris" label="Redirect URIs" required error={fieldErr(err, 'redirectUris')} help="One per line; matched exactly.">
        <textarea id="oc-uris" value={uris} onChange={(e) => setUris(e.target.value)} />
      </Field>
      <div className="field-label">Most a grant may hold</div>
      <label className="check" style={{ margin: '4px 0 8px' }}>
        <input type="checkbox" checked={full} onChange={(e) => setFull(e.target.checked)} /> Full access (the authorizing user's own permissions)
      </label>
      {!full && <ScopePicker levels={levels} onChange={setLevels} />}
      {fieldErr(err, 'allowedScopes') && <div className="field-error">{fieldErr(err, 'allowedScopes')}</div>}
      {err && !(err instanceof ApiError && err.fields.length) ? <ErrorBanner error={err} /> : null}
    </Dialog>
  );
}

function RevokeGrants({ c, onClose, onDone }: { c: OAuthClient; onClose: () => void; onDone: (n: number) => void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async () => {
    if (!reason.trim()) return;
    setBusy(true);
    setErr(null);
    try {
      const r = await post<{ revoked: number }>(`${BASE}/${encodeURIComponent(c.id)}/revoke-grants`, { reason: reason.trim() });
      onDone(r.revoked ?? 0);
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Revoke every grant of ${c.name}?`}
      width="small"
      onClose={onClose}
      onSubmit={submit}
      footer={
        <>
          <Button appearance="subtle" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" appearance="danger" loading={busy} disabled={!reason.trim()}>
            Revoke grants
          </Button>
        </>
      }
    >
      <p>Everyone who authorized this app will need to authorize it again.</p>
      <Field id="rg-reason" label="Reason" required error={fieldErr(err, 'reason')}>
        <input type="text" id="rg-reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
      </Field>
      {err && !fieldErr(err, 'reason') ? <Banner>{errorText(err)}</Banner> : null}
    </Dialog>
  );
}
