import { useEffect, useMemo, useState } from 'react';
import { ADMIN, get } from '../api';
import type { Credential, Page, Total } from '../types';
import { Button, Empty, ErrorBanner, Lozenge, Spinner, StatusLozenge, Time, useDebounced } from '../ui';
import { count, plural } from '../format';
import { AREAS, scopeSummary } from '../scopes';
import { activeFilterCount, emptyFilters, toFilterBody, toQuery, type Filters } from './filters';
import { CredentialDrawer } from './CredentialDrawer';
import { BulkRevoke, type RevokeTarget } from './BulkRevoke';
import { ExportButtons } from './ExportButtons';

const PAGE = 50;

type SortKey = 'name' | 'created' | 'expires' | 'lastUsed';

export function Inventory({ initialOwner, onOwnerShown }: { initialOwner?: { accountId: string; name: string } | null; onOwnerShown?: () => void }) {
  const [filters, setFilters] = useState<Filters>(() => (initialOwner ? { ...emptyFilters, owner: initialOwner.accountId, ownerName: initialOwner.name } : emptyFilters));
  const [showMore, setShowMore] = useState(false);
  const [sort, setSort] = useState<string>('-created');
  const [items, setItems] = useState<Credential[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [total, setTotal] = useState<Total | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [detail, setDetail] = useState<string | null>(null);
  const [revoke, setRevoke] = useState<RevokeTarget | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (initialOwner) {
      setFilters({ ...emptyFilters, owner: initialOwner.accountId, ownerName: initialOwner.name });
      onOwnerShown?.();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initialOwner]);

  const q = useDebounced(filters.q, 300);
  const staleDays = useDebounced(filters.staleDays, 400);
  const owner = useDebounced(filters.owner, 400);
  const effective = useMemo(() => ({ ...filters, q, staleDays, owner }), [filters, q, staleDays, owner]);
  const query = useMemo(() => toQuery(effective), [effective]);
  const queryKey = JSON.stringify(query);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    setSelected(new Set());
    get<Page<Credential>>(`${ADMIN}/credentials`, { ...query, sort, limit: PAGE }).then(
      (p) => {
        if (!live) return;
        setItems(p.items ?? []);
        setCursor(p.nextCursor ?? null);
        setTotal(p.total ?? null);
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
  }, [queryKey, sort, tick]);

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const p = await get<Page<Credential>>(`${ADMIN}/credentials`, { ...query, sort, limit: PAGE, cursor });
      setItems((xs) => [...xs, ...(p.items ?? [])]);
      setCursor(p.nextCursor ?? null);
      if (p.total) setTotal(p.total);
    } catch (e) {
      setError(e);
    } finally {
      setLoadingMore(false);
    }
  };

  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setFilters((f) => ({ ...f, [k]: v }));
  const toggleSort = (key: SortKey) => setSort((s) => (s === key ? `-${key}` : s === `-${key}` ? key : key === 'name' ? key : `-${key}`));
  const sortState = (key: SortKey): 'ascending' | 'descending' | 'none' => (sort === key ? 'ascending' : sort === `-${key}` ? 'descending' : 'none');
  const allOnPage = items.length > 0 && items.every((c) => selected.has(c.id));
  const toggleAll = () => setSelected(allOnPage ? new Set() : new Set(items.map((c) => c.id)));
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const refresh = () => setTick((t) => t + 1);
  const nFilters = activeFilterCount(filters);

  const SortHeader = ({ k, children }: { k: SortKey; children: string }) => {
    const st = sortState(k);
    return (
      <th aria-sort={st}>
        <button type="button" className="sort" onClick={() => toggleSort(k)} title={`Sort by ${children.toLowerCase()}`}>
          {children}
          <span className="sort-ind" aria-hidden="true">
            {st === 'ascending' ? '▲' : st === 'descending' ? '▼' : ''}
          </span>
        </button>
      </th>
    );
  };

  return (
    <section id="panel-credentials" role="tabpanel" aria-labelledby="tab-credentials">
      <div className="toolbar">
        <div className="field grow">
          <label htmlFor="inv-q">Search</label>
          <input id="inv-q" type="search" placeholder="Name, key hint or owner" value={filters.q} onChange={(e) => set('q', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="inv-kind">Kind</label>
          <select id="inv-kind" value={filters.kind} onChange={(e) => set('kind', e.target.value)}>
            <option value="">All kinds</option>
            <option value="api_key">API keys</option>
            <option value="oauth_grant">OAuth grants</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="inv-status">Status</label>
          <select id="inv-status" value={filters.status} onChange={(e) => set('status', e.target.value)}>
            <option value="">Any status</option>
            <option value="active">Active</option>
            <option value="expired">Expired</option>
            <option value="revoked">Revoked</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="inv-scope">Scope</label>
          <select id="inv-scope" value={filters.scope} onChange={(e) => set('scope', e.target.value)}>
            <option value="">Any scope</option>
            <option value="full">Full access</option>
            {AREAS.flatMap((a) => [
              <option key={`${a.key}:view`} value={`${a.key}:view`}>
                {a.label} (view)
              </option>,
              <option key={`${a.key}:manage`} value={`${a.key}:manage`}>
                {a.label} (manage)
              </option>,
            ])}
          </select>
        </div>
        <Button appearance="subtle" aria-expanded={showMore} aria-controls="inv-more" onClick={() => setShowMore((v) => !v)}>
          {showMore ? 'Fewer filters' : 'More filters'}
          {nFilters > 0 && <Lozenge appearance="inprogress">{nFilters}</Lozenge>}
        </Button>
        {nFilters > 0 && (
          <Button appearance="subtle" onClick={() => setFilters({ ...emptyFilters, q: filters.q })}>
            Clear filters
          </Button>
        )}
      </div>
      {showMore && (
        <div className="filters" id="inv-more">
          <div className="field">
            <label htmlFor="inv-owner">Owner account ID</label>
            <input id="inv-owner" type="text" value={filters.owner} placeholder="557058:…" onChange={(e) => setFilters((f) => ({ ...f, owner: e.target.value, ownerName: '' }))} />
          </div>
          <div className="field">
            <label htmlFor="inv-stale">Unused for (days)</label>
            <input id="inv-stale" type="number" min={1} value={filters.staleDays} placeholder="e.g. 90" onChange={(e) => set('staleDays', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="inv-cf">Created from</label>
            <input id="inv-cf" type="date" value={filters.createdFrom} onChange={(e) => set('createdFrom', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="inv-ct">Created to</label>
            <input id="inv-ct" type="date" value={filters.createdTo} onChange={(e) => set('createdTo', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="inv-lf">Last used from</label>
            <input id="inv-lf" type="date" value={filters.lastUsedFrom} onChange={(e) => set('lastUsedFrom', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="inv-lt">Last used to</label>
            <input id="inv-lt" type="date" value={filters.lastUsedTo} onChange={(e) => set('lastUsedTo', e.target.value)} />
          </div>
          <label className="check">
            <input type="checkbox" checked={filters.ownerInactive} onChange={(e) => set('ownerInactive', e.target.checked)} />
            Owner deactivated in Jira
          </label>
        </div>
      )}
      {filters.owner && filters.ownerName && !showMore && (
        <p>
          Showing credentials of <strong>{filters.ownerName}</strong>{' '}
          <Button appearance="link" onClick={() => setFilters((f) => ({ ...f, owner: '', ownerName: '' }))}>
            show everyone
          </Button>
        </p>
      )}

      <div className="actionbar">
        <div className="btn-group">
          {selected.size > 0 ? (
            <span className="selection" aria-live="polite">
              {plural(selected.size, 'credential')} selected{' '}
              <Button appearance="link" onClick={() => setSelected(new Set())}>
                clear
              </Button>
            </span>
          ) : (
            <span className="muted" aria-live="polite">
              {loading ? ' ' : total ? `${total.exact ? '' : 'about '}${plural(total.value, 'credential')}` : `${plural(items.length, 'credential')}${cursor ? '+' : ''}`}
            </span>
          )}
          <Button appearance="danger" disabled={selected.size === 0} onClick={() => setRevoke({ kind: 'ids', ids: [...selected], label: `${plural(selected.size, 'selected credential')}` })}>
            Revoke selected
          </Button>
          <Button appearance="subtle" disabled={loading || items.length === 0} onClick={() => setRevoke({ kind: 'filter', filter: toFilterBody(effective), label: nFilters || effective.q ? 'every credential matching the current filter' : 'every credential in this list' })}>
            Revoke all matching filter…
          </Button>
          <Button appearance="subtle" className="danger-text" onClick={() => setRevoke({ kind: 'all', label: 'every credential in this site' })}>
            Revoke everything in site…
          </Button>
        </div>
        <ExportButtons what="credentials" label="inventory" query={query} />
      </div>

      {error ? <ErrorBanner error={error} onRetry={refresh} /> : null}

      <div className="table-wrap">
        <table className="dyn" aria-label="Credentials" aria-busy={loading}>
          <thead>
            <tr>
              <th className="check-col">
                <input type="checkbox" aria-label="Select all on this page" checked={allOnPage} onChange={toggleAll} disabled={items.length === 0} />
              </th>
              <SortHeader k="name">Name</SortHeader>
              <th>Kind</th>
              <th>Owner</th>
              <th>Scopes</th>
              <th>Status</th>
              <SortHeader k="created">Created</SortHeader>
              <SortHeader k="expires">Expires</SortHeader>
              <SortHeader k="lastUsed">Last used</SortHeader>
              <th className="num">Uses</th>
            </tr>
          </thead>
          <tbody>
            {!loading &&
              items.map((c) => (
                <tr key={c.id} className={selected.has(c.id) ? 'selected' : ''} data-id={c.id}>
                  <td className="check-col">
                    <input type="checkbox" aria-label={`Select ${c.name || c.hint}`} checked={selected.has(c.id)} onChange={() => toggle(c.id)} />
                  </td>
                  <td>
                    <button type="button" className="cell-name" onClick={() => setDetail(c.id)}>
                      {c.name || '(unnamed)'}
                    </button>
                    <div className="cell-sub mono">{c.hint}</div>
                  </td>
                  <td>{c.kind === 'oauth_grant' ? <Lozenge appearance="new">OAuth</Lozenge> : <Lozenge>API key</Lozenge>}</td>
                  <td>
                    <div>{c.owner?.displayName || c.owner?.accountId || '—'}</div>
                    {c.owner && c.owner.active === false && <Lozenge appearance="removed">inactive</Lozenge>}
                  </td>
                  <td className="small">{scopeSummary(c.access, c.scopes)}</td>
                  <td>
                    <StatusLozenge status={c.status} />
                  </td>
                  <td>
                    <Time iso={c.createdAt} />
                  </td>
                  <td>
                    <Time iso={c.expiresAt} empty="never" />
                  </td>
                  <td>
                    <Time iso={c.lastUsedAt} empty="never" />
                  </td>
                  <td className="num">{count(c.useCount)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
      {loading && (
        <div className="loading" role="status">
          <Spinner size="large" /> Loading credentials…
        </div>
      )}
      {!loading && !error && items.length === 0 && (
        <Empty title={nFilters || filters.q ? 'No credentials match' : 'No credentials yet'}>
          {nFilters || filters.q ? 'Try other filters or clear them.' : 'API keys and OAuth grants appear here as soon as people create them.'}
        </Empty>
      )}
      {!loading && items.length > 0 && (
        <div className="table-foot">
          <span>
            Showing {count(items.length)}
            {total ? ` of ${total.exact ? '' : 'about '}${count(total.value)}` : ''}
          </span>
          {cursor ? (
            <Button onClick={loadMore} loading={loadingMore}>
              Load more
            </Button>
          ) : (
            <span className="muted">End of list</span>
          )}
        </div>
      )}

      {detail && <CredentialDrawer id={detail} onClose={() => setDetail(null)} onChanged={refresh} />}
      {revoke && (
        <BulkRevoke
          target={revoke}
          onClose={() => setRevoke(null)}
          onDone={() => {
            setSelected(new Set());
            refresh();
          }}
        />
      )}
    </section>
  );
}
