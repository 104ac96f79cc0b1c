import { useEffect, useMemo, useState } from 'react';
import { ADMIN, get } from '../api';
import type { AccessLogEntry, Page } from '../types';
import { Button, Empty, ErrorBanner, Lozenge, Spinner, Time, useDebounced } from '../ui';
import { count } from '../format';
import { localToRFC3339 } from '../format';
import { ExportButtons } from './ExportButtons';

/** AccessTable lists access-log entries. */
export function AccessTable({ items, compact }: { items: AccessLogEntry[]; compact?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="dyn" aria-label="Access log">
        <thead>
          <tr>
            <th>When</th>
            <th>Decision</th>
            <th>Request</th>
            {!compact && <th>Credential</th>}
            {!compact && <th>Owner</th>}
            <th>IP</th>
            {!compact && <th>User agent</th>}
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td>
                <Time iso={e.at} />
              </td>
              <td>
                <Lozenge appearance={/^(allow|allowed|ok|granted)$/i.test(e.decision) ? 'success' : 'removed'} title={e.reason}>
                  {e.decision}
                </Lozenge>
                {e.reason && <div className="cell-sub">{e.reason}</div>}
              </td>
              <td className="mono">
                {e.method} {e.path}
              </td>
              {!compact && <td className="mono small">{e.credentialId}</td>}
              {!compact && <td className="mono small">{e.ownerAccountId}</td>}
              <td className="mono small">{e.ip}</td>
              {!compact && (
                <td className="small" style={{ maxWidth: 220 }}>
                  {e.userAgent}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface LogFilters {
  credential: string;
  owner: string;
  decision: string;
  path: string;
  from: string;
  to: string;
}

const empty: LogFilters = { credential: '', owner: '', decision: '', path: '', from: '', to: '' };

/** AccessLog is the admin's access-log tab: filters and keyset pagination. */
export function AccessLog() {
  const [f, setF] = useState<LogFilters>(empty);
  const debounced = useDebounced(f, 400);
  const query = useMemo(
    () => ({
      credential: debounced.credential.trim(),
      owner: debounced.owner.trim(),
      decision: debounced.decision,
      path: debounced.path.trim(),
      from: localToRFC3339(debounced.from),
      to: localToRFC3339(debounced.to),
    }),
    [debounced],
  );
  const key = JSON.stringify(query);
  const [items, setItems] = useState<AccessLogEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    get<Page<AccessLogEntry>>(`${ADMIN}/access-log`, { ...query, limit: 100 }).then(
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
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, tick]);

  const loadMore = async () => {
    if (!cursor) return;
    setMore(true);
    try {
      const p = await get<Page<AccessLogEntry>>(`${ADMIN}/access-log`, { ...query, limit: 100, cursor });
      setItems((xs) => [...xs, ...(p.items ?? [])]);
      setCursor(p.nextCursor ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setMore(false);
    }
  };
  const set = (k: keyof LogFilters, v: string) => setF((x) => ({ ...x, [k]: v }));

  return (
    <section id="panel-access" role="tabpanel" aria-labelledby="tab-access">
      <div className="filters">
        <div className="field">
          <label htmlFor="log-cred">Credential ID</label>
          <input id="log-cred" type="text" value={f.credential} onChange={(e) => set('credential', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="log-owner">Owner account ID</label>
          <input id="log-owner" type="text" value={f.owner} onChange={(e) => set('owner', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="log-decision">Decision</label>
          <select id="log-decision" value={f.decision} onChange={(e) => set('decision', e.target.value)}>
            <option value="">Any</option>
            <option value="allow">Allowed</option>
            <option value="deny">Denied</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="log-path">Path starts with</label>
          <input id="log-path" type="text" placeholder="/4/worklogs" value={f.path} onChange={(e) => set('path', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="log-from">From</label>
          <input id="log-from" type="datetime-local" value={f.from} onChange={(e) => set('from', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="log-to">To</label>
          <input id="log-to" type="datetime-local" value={f.to} onChange={(e) => set('to', e.target.value)} />
        </div>
      </div>
      <div className="actionbar">
        <span className="muted">Every verification of a keyward credential by a resource server, newest first.</span>
        <ExportButtons what="access-log" label="access log" query={query} />
      </div>
      {error ? <ErrorBanner error={error} onRetry={() => setTick((t) => t + 1)} /> : null}
      {loading ? (
        <div className="loading" role="status">
          <Spinner size="large" /> Loading access log…
        </div>
      ) : items.length === 0 ? (
        !error && <Empty title="No access recorded">Nothing matches these filters.</Empty>
      ) : (
        <>
          <AccessTable items={items} />
          <div className="table-foot">
            <span>Showing {count(items.length)}</span>
            {cursor ? (
              <Button onClick={loadMore} loading={more}>
                Load more
              </Button>
            ) : (
              <span className="muted">End of log</span>
            )}
          </div>
        </>
      )}
    </section>
  );
}
