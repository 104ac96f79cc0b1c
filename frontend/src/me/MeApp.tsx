import { useState } from 'react';
import { ME, ApiError, currentHost, get, post } from '../api';
import type { AccessLogEntry, Credential, Grant, IssuedKey, Page } from '../types';
import { Banner, Button, Dialog, Empty, ErrorBanner, Field, Loading, StatusLozenge, Time, Unavailable, fieldErr, useAsync } from '../ui';
import { count } from '../format';
import { scopeLabel, scopeSummary } from '../scopes';
import { ScopePicker, scopesFromLevels, type Levels } from './ScopePicker';
import { SecretDialog } from './SecretDialog';
import { RevokeOne } from '../admin/CredentialDrawer';
import { AccessTable } from '../admin/AccessLog';

/** MeApp is the self-service page: "My Tempo API keys" and "Apps you authorized". */
export function MeApp() {
  const keys = useAsync(() => get<{ items: Credential[] }>(`${ME}/keys`), []);
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [regen, setRegen] = useState<Credential | null>(null);
  const [revoke, setRevoke] = useState<Credential | null>(null);
  const [activity, setActivity] = useState<Credential | null>(null);
  const items = keys.data?.items ?? [];

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1>My Tempo API keys</h1>
          <p>Keys you created to call the Tempo API. Each key can be limited to the areas it needs and expires on its own.</p>
        </div>
        <div className="btn-group">
          {currentHost().kind === 'dev' && <span className="host-badge">dev mode</span>}
          <Button appearance="primary" onClick={() => setCreating(true)}>
            Create API key
          </Button>
        </div>
      </div>
      {keys.loading ? (
        <Loading label="Loading your keys" />
      ) : keys.error ? (
        <ErrorBanner error={keys.error} onRetry={keys.reload} />
      ) : items.length === 0 ? (
        <Empty title="You have no API keys">Create one to connect a script or an integration to Tempo. You choose what it may do and when it expires.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="dyn" aria-label="My API keys">
            <thead>
              <tr>
                <th>Name</th>
                <th>Access</th>
                <th>Status</th>
                <th>Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th className="num">Uses</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((k) => (
                <tr key={k.id} data-id={k.id}>
                  <td>
                    <div className="cell-title">{k.name}</div>
                    <div className="cell-sub mono">{k.hint}</div>
                  </td>
                  <td className="small" title={k.scopes?.map(scopeLabel).join(', ')}>
                    {scopeSummary(k.access, k.scopes)}
                  </td>
                  <td>
                    <StatusLozenge status={k.status} />
                  </td>
                  <td>
                    <Time iso={k.createdAt} />
                  </td>
                  <td>
                    <Time iso={k.expiresAt} empty="never" />
                  </td>
                  <td>
                    <Time iso={k.lastUsedAt} empty="never" />
                  </td>
                  <td className="num">{count(k.useCount)}</td>
                  <td>
                    <div className="btn-group">
                      <Button appearance="subtle" onClick={() => setActivity(k)}>
                        Activity
                      </Button>
                      {k.status !== 'revoked' && (
                        <Button appearance="subtle" onClick={() => setRegen(k)}>
                          Regenerate
                        </Button>
                      )}
                      {k.status !== 'revoked' && (
                        <Button appearance="subtle" onClick={() => setRevoke(k)}>
                          Revoke
                        </Button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <Grants />

      {creating && (
        <CreateKey
          onClose={() => setCreating(false)}
          onCreated={(i) => {
            setCreating(false);
            setIssued(i);
            keys.reload();
          }}
        />
      )}
      {issued && <SecretDialog issued={issued} onClose={() => setIssued(null)} />}
      {regen && (
        <Regenerate
          k={regen}
          onClose={() => setRegen(null)}
          onDone={(i) => {
            setRegen(null);
            setIssued(i);
            keys.reload();
          }}
        />
      )}
      {revoke && (
        <RevokeOne
          c={revoke}
          path={`${ME}/keys/${encodeURIComponent(revoke.id)}/revoke`}
          onClose={() => setRevoke(null)}
          onDone={() => {
            setRevoke(null);
            keys.reload();
          }}
        />
      )}
      {activity && <Activity k={activity} onClose={() => setActivity(null)} />}
    </main>
  );
}

function CreateKey({ onClose, onCreated }: { onClose: () => void; onCreated: (i: IssuedKey) => void }) {
  const [name, setName] = useState('');
  const [days, setDays] = useState('30');
  const [access, setAccess] = useState<'full' | 'custom'>('custom');
  const [levels, setLevels] = useState<Levels>({ worklogs: 'view' });
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async () => {
    setBusy(true);
    setErr(null);
    try {
      const body = { name: name.trim(), expiresInDays: days === '' ? undefined : Number(days), access, scopes: access === 'full' ? [] : scopesFromLevels(levels) };
      onCreated(await post<IssuedKey>(`${ME}/keys`, body));
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  const generalErr = err && !(err instanceof ApiError && err.fields.length > 0);
  return (
    <Dialog
      title="Create API key"
      onClose={onClose}
      onSubmit={submit}
      width="large"
      footer={
        <>
          <Button appearance="subtle" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" appearance="primary" loading={busy} disabled={!name.trim()}>
            Create
          </Button>
        </>
      }
    >
      <div className="grid-2">
        <Field id="key-name" label="Name" required error={fieldErr(err, 'name')} help="What uses this key, e.g. “Payroll export”.">
          <input id="key-name" type="text" value={name} onChange={(e) => setName(e.target.value)} autoFocus maxLength={200} />
        </Field>
        <Field id="key-days" label="Expires in (days)" required error={fieldErr(err, 'expiresInDays')} help="Your site sets the maximum.">
          <input id="key-days" type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} />
        </Field>
      </div>
      <div className="field" role="radiogroup" aria-labelledby="key-access-label">
        <span className="field-label" id="key-access-label">
          Access
        </span>
        <div className="radio-row">
          <label className="check">
            <input type="radio" name="access" checked={access === 'custom'} onChange={() => setAccess('custom')} /> Custom: only the areas below
          </label>
          <label className="check">
            <input type="radio" name="access" checked={access === 'full'} onChange={() => setAccess('full')} /> Full access (everything you can do in Tempo)
          </label>
        </div>
        {fieldErr(err, 'access') && <div className="field-error">{fieldErr(err, 'access')}</div>}
      </div>
      {access === 'custom' && <ScopePicker levels={levels} onChange={setLevels} />}
      {fieldErr(err, 'scopes') && (
        <div className="field-error" role="alert">
          {fieldErr(err, 'scopes')}
        </div>
      )}
      {generalErr ? <ErrorBanner error={err} /> : null}
    </Dialog>
  );
}

function Regenerate({ k, onClose, onDone }: { k: Credential; onClose: () => void; onDone: (i: IssuedKey) => void }) {
  const [overlap, setOverlap] = useState('0');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async () => {
    setBusy(true);
    setErr(null);
    try {
      onDone(await post<IssuedKey>(`${ME}/keys/${encodeURIComponent(k.id)}/regenerate`, { overlapMinutes: Number(overlap) || 0 }));
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Regenerate “${k.name}”?`}
      width="small"
      onClose={onClose}
      onSubmit={submit}
      footer={
        <>
          <Button appearance="subtle" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" appearance="primary" loading={busy}>
            Regenerate
          </Button>
        </>
      }
    >
      <p>You get a new secret with the same access. The old secret stops working after the overlap.</p>
      <Field id="regen-overlap" label="Keep the old secret working for (minutes)" error={fieldErr(err, 'overlapMinutes')} help="0 stops it at once; an overlap lets you roll the new secret out first.">
        <input id="regen-overlap" type="number" min={0} value={overlap} onChange={(e) => setOverlap(e.target.value)} autoFocus />
      </Field>
      {err && !fieldErr(err, 'overlapMinutes') ? <ErrorBanner error={err} /> : null}
    </Dialog>
  );
}

function Activity({ k, onClose }: { k: Credential; onClose: () => void }) {
  const log = useAsync(() => get<Page<AccessLogEntry>>(`${ME}/keys/${encodeURIComponent(k.id)}/access-log`, { limit: 50 }), [k.id]);
  return (
    <Dialog title={`Recent use of “${k.name}”`} width="large" onClose={onClose}>
      {log.loading ? <Loading /> : log.error ? <ErrorBanner error={log.error} onRetry={log.reload} /> : log.data?.items?.length ? <AccessTable items={log.data.items} compact /> : <Empty title="Not used yet" />}
    </Dialog>
  );
}

function Grants() {
  const grants = useAsync(() => get<Page<Grant> | Grant[]>(`${ME}/grants`), []);
  const [target, setTarget] = useState<Grant | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const items = Array.isArray(grants.data) ? grants.data : (grants.data?.items ?? []);
  const revoke = async () => {
    if (!target) return;
    setBusy(true);
    setErr(null);
    try {
      await post(`${ME}/grants/${encodeURIComponent(target.id)}/revoke`, {});
      setTarget(null);
      grants.reload();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="section" aria-labelledby="grants-h">
      <h2 id="grants-h" style={{ marginBottom: 12 }}>
        Apps you authorized
      </h2>
      {grants.loading ? (
        <Loading />
      ) : grants.error instanceof ApiError && grants.error.unavailable ? (
        <Unavailable what="Authorized apps" />
      ) : grants.error ? (
        <ErrorBanner error={grants.error} onRetry={grants.reload} />
      ) : items.length === 0 ? (
        <Empty title="No authorized apps">When you allow an app to use Tempo on your behalf, it appears here and you can take the access back.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="dyn" aria-label="Apps you authorized">
            <thead>
              <tr>
                <th>App</th>
                <th>Access</th>
                <th>Authorized</th>
                <th>Last used</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((g) => (
                <tr key={g.id}>
                  <td className="cell-title">{g.clientName || g.clientId || g.id}</td>
                  <td className="small">{scopeSummary(undefined, g.scopes)}</td>
                  <td>
                    <Time iso={g.createdAt} />
                  </td>
                  <td>
                    <Time iso={g.lastUsedAt} empty="never" />
                  </td>
                  <td>
                    {g.status !== 'revoked' && (
                      <Button appearance="subtle" onClick={() => setTarget(g)}>
                        Revoke access
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {target && (
        <Dialog
          title={`Revoke access of ${target.clientName || 'this app'}?`}
          width="small"
          onClose={() => setTarget(null)}
          onSubmit={revoke}
          footer={
            <>
              <Button appearance="subtle" onClick={() => setTarget(null)}>
                Cancel
              </Button>
              <Button type="submit" appearance="danger" loading={busy}>
                Revoke access
              </Button>
            </>
          }
        >
          <p>The app can no longer call Tempo for you. You can authorize it again later.</p>
          {err ? <Banner>{(err as Error).message}</Banner> : null}
        </Dialog>
      )}
    </section>
  );
}
