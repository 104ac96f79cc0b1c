import { useEffect, useState } from 'react';
import { ADMIN, ApiError, errorText, get, post } from '../api';
import type { Job, JobRun, Report } from '../types';
import { Banner, Button, Empty, ErrorBanner, Loading, Lozenge, Time, Unavailable, useAsync, type LozengeAppearance } from '../ui';
import { download } from '../download';

const runLook = (s?: string): LozengeAppearance =>
  s === 'succeeded' ? 'success' : s === 'running' ? 'inprogress' : s === 'failed' || s === 'abandoned' ? 'removed' : s === 'partial' || s === 'canceled' ? 'moved' : 'default';

function countsText(v: unknown): string {
  if (!v) return '';
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return v as string;
    }
  }
  if (typeof v !== 'object' || v === null) return String(v);
  return Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => typeof x === 'number' || typeof x === 'string')
    .map(([k, x]) => `${k} ${x}`)
    .join(' · ');
}

function reportCounts(r: Report): string {
  const parts: string[] = [];
  if (r.ownersChecked !== undefined) parts.push(`${r.ownersChecked} owners checked`);
  if (r.revoked !== undefined) parts.push(`${r.revoked} revoked`);
  if (r.stale !== undefined) parts.push(`${r.stale} stale`);
  if (r.expired !== undefined) parts.push(`${r.expired} expired`);
  if (r.errors) parts.push(`${r.errors} errors`);
  return parts.join(' · ');
}

/** latest is the most recent run this site may see in full, else the last scheduled one. */
function latest(j: Job): JobRun | undefined {
  const runs = [...(j.lastRuns ?? []), ...(j.lastScheduledRun ? [j.lastScheduledRun] : [])];
  return runs.sort((a, b) => Date.parse(b.startedAt ?? '') - Date.parse(a.startedAt ?? ''))[0];
}

type Listing<T> = { items?: T[]; jobs?: T[]; nextBefore?: number | null } | T[];
const itemsOf = <T,>(d: Listing<T> | undefined): T[] => (Array.isArray(d) ? d : (d?.jobs ?? d?.items ?? []));

/** Jobs lists background jobs (run one now for this site) and the reports they produced (CSV or JSON). */
export function Jobs() {
  const jobs = useAsync(() => get<Listing<Job>>(`${ADMIN}/jobs`), []);
  const [running, setRunning] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [reportsTick, setReportsTick] = useState(0);
  const list = itemsOf(jobs.data);
  const anyRunning = list.some((j) => latest(j)?.status === 'running');

  // While a run is going, look again every few seconds.
  useEffect(() => {
    if (!anyRunning) return;
    const t = setTimeout(() => {
      jobs.reload();
      setReportsTick((x) => x + 1);
    }, 3000);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [anyRunning, jobs.data]);

  const run = async (name: string) => {
    setRunning(name);
    setMsg(null);
    try {
      const r = await post<{ runId?: number }>(`${ADMIN}/jobs/${encodeURIComponent(name)}/run`, {});
      setMsg({ ok: true, text: `Started ${name}${r?.runId ? ` (run #${r.runId})` : ''} for this site.` });
      jobs.reload();
      setReportsTick((x) => x + 1);
    } catch (e) {
      setMsg({ ok: false, text: errorText(e) });
    } finally {
      setRunning(null);
    }
  };

  return (
    <section id="panel-jobs" role="tabpanel" aria-labelledby="tab-jobs">
      <div className="actionbar">
        <h3 style={{ margin: 0 }}>Jobs</h3>
        <Button appearance="subtle" onClick={() => { jobs.reload(); setReportsTick((x) => x + 1); }}>
          Refresh
        </Button>
      </div>
      {msg && <Banner appearance={msg.ok ? 'success' : 'error'}>{msg.text}</Banner>}
      {jobs.loading && !jobs.data ? (
        <Loading />
      ) : jobs.error instanceof ApiError && jobs.error.unavailable ? (
        <Unavailable what="Jobs" />
      ) : jobs.error ? (
        <ErrorBanner error={jobs.error} onRetry={jobs.reload} />
      ) : list.length === 0 ? (
        <Empty title="No jobs" />
      ) : (
        <div className="table-wrap">
          <table className="dyn" aria-label="Jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>Schedule</th>
                <th>Last run</th>
                <th>Result</th>
                <th>Next run</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((j) => {
                const last = latest(j);
                return (
                  <tr key={j.name}>
                    <td>
                      <div className="cell-title">{j.name}</div>
                      {j.description && <div className="cell-sub">{j.description}</div>}
                    </td>
                    <td className="mono" style={{ whiteSpace: 'nowrap' }}>{j.schedule || '—'}</td>
                    <td>
                      <Time iso={last?.startedAt} empty="never" />
                      {last?.triggeredBy && <div className="cell-sub">{last.triggeredBy}</div>}
                    </td>
                    <td>
                      {last?.status ? <Lozenge appearance={runLook(last.status)}>{last.status}</Lozenge> : '—'}
                      {last?.counts && <div className="cell-sub">{countsText(last.counts)}</div>}
                      {last?.error && <div className="cell-sub field-error">{last.error}</div>}
                    </td>
                    <td>
                      <Time iso={j.nextRun} empty="—" />
                    </td>
                    <td>
                      {j.global ? (
                        <span className="cell-sub" title="This job maintains the whole deployment; it runs on its schedule.">
                          Scheduled only
                        </span>
                      ) : (
                        <Button onClick={() => run(j.name)} loading={running === j.name} disabled={!!running || last?.status === 'running'}>
                          Run now
                        </Button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Reports tick={reportsTick} />
    </section>
  );
}

function Reports({ tick }: { tick: number }) {
  const [items, setItems] = useState<Report[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    get<Listing<Report>>(`${ADMIN}/reports`, { limit: 25 }).then(
      (d) => {
        if (!live) return;
        setItems(itemsOf(d));
        setNext(Array.isArray(d) ? null : (d.nextBefore ?? null));
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);

  const loadMore = async () => {
    if (!next) return;
    setMore(true);
    try {
      const d = await get<Listing<Report>>(`${ADMIN}/reports`, { limit: 25, before: next });
      setItems((xs) => [...xs, ...itemsOf(d)]);
      setNext(Array.isArray(d) ? null : (d.nextBefore ?? null));
    } catch (e) {
      setError(e);
    } finally {
      setMore(false);
    }
  };

  return (
    <div className="section">
      <h3>Reports</h3>
      {loading ? (
        <Loading />
      ) : error instanceof ApiError && error.unavailable ? (
        <Unavailable what="Reports" />
      ) : error ? (
        <ErrorBanner error={error} />
      ) : items.length === 0 ? (
        <Empty title="No reports yet">Reconciliation and weekly reports appear here after the jobs run.</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="dyn" aria-label="Reports">
              <thead>
                <tr>
                  <th>Report</th>
                  <th>Status</th>
                  <th>Finished</th>
                  <th>Summary</th>
                  <th>
                    <span className="visually-hidden">Download</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <div className="cell-title">{r.title ?? (r.kind ? r.kind[0].toUpperCase() + r.kind.slice(1) : 'Report')}</div>
                      <div className="cell-sub">#{r.id}</div>
                    </td>
                    <td>{r.status ? <Lozenge appearance={r.status === 'ok' ? 'success' : 'removed'}>{r.status}</Lozenge> : '—'}</td>
                    <td>
                      <Time iso={r.finishedAt ?? r.createdAt ?? r.startedAt} />
                    </td>
                    <td className="small">
                      {reportCounts(r) || countsText(r.summary)}
                      {r.error && <div className="field-error">{r.error}</div>}
                    </td>
                    <td>
                      <ReportDownload id={String(r.id)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="table-foot">
            <span>Showing {items.length}</span>
            {next ? (
              <Button onClick={loadMore} loading={more}>
                Load more
              </Button>
            ) : (
              <span className="muted">End of list</span>
            )}
          </div>
        </>
      )}
    </div>
  );
}

function ReportDownload({ id }: { id: string }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState('');
  const go = async (format: 'csv' | 'json') => {
    setBusy(format);
    setErr('');
    try {
      await download(`${ADMIN}/reports/${encodeURIComponent(id)}?format=${format}`, `keyward-report-${id}.${format}`, () => {});
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="btn-group">
      <Button appearance="subtle" onClick={() => go('csv')} loading={busy === 'csv'}>
        CSV
      </Button>
      <Button appearance="subtle" onClick={() => go('json')} loading={busy === 'json'}>
        JSON
      </Button>
      {err && <span className="field-error small">{err}</span>}
    </div>
  );
}
