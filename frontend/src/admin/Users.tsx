import { useEffect, useState } from 'react';
import { ADMIN, get, post } from '../api';
import type { Page, UserSummary } from '../types';
import { Banner, Button, Dialog, Empty, ErrorBanner, Field, Lozenge, Spinner, Time, fieldErr, useDebounced } from '../ui';
import { count, plural } from '../format';

/** Users lists credential owners with their counts; revokes everything of one person. */
export function Users({ onShowCredentials }: { onShowCredentials: (u: { accountId: string; name: string }) => void }) {
  const [q, setQ] = useState('');
  const [inactive, setInactive] = useState(false);
  const dq = useDebounced(q, 300);
  const [items, setItems] = useState<UserSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const [target, setTarget] = useState<UserSummary | null>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    get<Page<UserSummary>>(`${ADMIN}/users`, { q: dq.trim(), ownerInactive: inactive ? 'true' : '', limit: 50 }).then(
      (p) => {
        if (!live) return;
        setItems(p.items ?? []);
        setCursor(p.nextCursor ?? null);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e);
        setItems([]);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [dq, inactive, tick]);

  const loadMore = async () => {
    if (!cursor) return;
    setMore(true);
    try {
      const p = await get<Page<UserSummary>>(`${ADMIN}/users`, { q: dq.trim(), ownerInactive: inactive ? 'true' : '', limit: 50, cursor });
      setItems((xs) => [...xs, ...(p.items ?? [])]);
      setCursor(p.nextCursor ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setMore(false);
    }
  };

  return (
    <section id="panel-users" role="tabpanel" aria-labelledby="tab-users">
      <div className="toolbar">
        <div className="field grow">
          <label htmlFor="users-q">Search people</label>
          <input id="users-q" type="search" placeholder="Name or account ID" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        <label className="check" style={{ minHeight: 32 }}>
          <input type="checkbox" checked={inactive} onChange={(e) => setInactive(e.target.checked)} />
          Only people deactivated in Jira
        </label>
      </div>
      {done && (
        <Banner appearance="success" title="Done">
          {done}
        </Banner>
      )}
      {error ? <ErrorBanner error={error} onRetry={() => setTick((t) => t + 1)} /> : null}
      {loading ? (
        <div className="loading" role="status">
          <Spinner size="large" /> Loading people…
        </div>
      ) : items.length === 0 ? (
        !error && <Empty title="No one found">People appear here once they own a key or authorized an app.</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="dyn" aria-label="Credential owners">
              <thead>
                <tr>
                  <th>Person</th>
                  <th>Jira status</th>
                  <th className="num">Active credentials</th>
                  <th className="num">All credentials</th>
                  <th>Last used</th>
                  <th>
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((u) => (
                  <tr key={u.accountId}>
                    <td>
                      <div className="cell-title">{u.displayName || u.accountId}</div>
                      <div className="cell-sub mono">{u.accountId}</div>
                    </td>
                    <td>{u.active === false ? <Lozenge appearance="removed">inactive</Lozenge> : <Lozenge appearance="success">active</Lozenge>}</td>
                    <td className="num">{count(u.activeCredentials)}</td>
                    <td className="num">{count(u.totalCredentials)}</td>
                    <td>
                      <Time iso={u.lastUsedAt} empty="never" />
                    </td>
                    <td>
                      <div className="btn-group">
                        <Button appearance="subtle" onClick={() => onShowCredentials({ accountId: u.accountId, name: u.displayName || u.accountId })}>
                          Credentials
                        </Button>
                        <Button appearance="subtle" disabled={u.activeCredentials === 0} onClick={() => setTarget(u)}>
                          Revoke all…
                        </Button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="table-foot">
            <span>Showing {count(items.length)}</span>
            {cursor ? (
              <Button onClick={loadMore} loading={more}>
                Load more
              </Button>
            ) : (
              <span className="muted">End of list</span>
            )}
          </div>
        </>
      )}
      {target && (
        <RevokeUser
          u={target}
          onClose={() => setTarget(null)}
          onDone={(n) => {
            setTarget(null);
            setDone(`Revoked ${plural(n, 'credential')} of ${target.displayName || target.accountId}.`);
            setTick((t) => t + 1);
          }}
        />
      )}
    </section>
  );
}

function RevokeUser({ u, onClose, onDone }: { u: UserSummary; onClose: () => void; onDone: (n: number) => void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const submit = async () => {
    if (!reason.trim()) return;
    setBusy(true);
    setErr(null);
    try {
      const r = await post<{ revoked: number }>(`${ADMIN}/users/${encodeURIComponent(u.accountId)}/revoke`, { reason: reason.trim() });
      onDone(r.revoked);
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Revoke everything of ${u.displayName || u.accountId}?`}
      onClose={onClose}
      onSubmit={submit}
      width="small"
      footer={
        <>
          <Button appearance="subtle" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" appearance="danger" loading={busy} disabled={!reason.trim()}>
            Revoke {plural(u.activeCredentials, 'credential')}
          </Button>
        </>
      }
    >
      <p>
        All {plural(u.activeCredentials, 'active API key and OAuth grant', 'active API keys and OAuth grants')} of this person stop working within seconds. This cannot be undone.
      </p>
      <Field id="user-reason" label="Reason" required error={fieldErr(err, 'reason')}>
        <input type="text" id="user-reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus placeholder="e.g. Left the company" />
      </Field>
      {err && !fieldErr(err, 'reason') ? <ErrorBanner error={err} /> : null}
    </Dialog>
  );
}
