import { useState } from 'react';
import { ADMIN, ApiError, errorText, get, post } from '../api';
import type { Job, Page, Report } from '../types';
import { Banner, Button, Empty, ErrorBanner, Loading, Lozenge, Time, Unavailable, useAsync } from '../ui';
import { download } from '../download';

const runLook = (s?: string) => (s === 'succeeded' ? 'success' : s === 'running' ? 'inprogress' : s === 'failed' || s === 'abandoned' ? 'removed' : s === 'partial' ? 'moved' : 'default');

function summaryText(v: unknown): string {
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

/** Jobs lists background jobs (run one now) and the reports they produced (download as CSV or JSON). */
export function Jobs() {
  const jobs = useAsync(() => get<Page<Job> | Job[]>(`${ADMIN}/jobs`), []);
  const reports = useAsync(() => get<Page<Report> | Report[]>(`${ADMIN}/reports`), []);
  const [running, setRunning] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  const run = async (name: string) => {
    setRunning(name);
    setMsg(null);
    try {
      await post(`${ADMIN}/jobs/${encodeURIComponent(name)}/run`, {});
      setMsg({ ok: true, text: `Started ${name}.` });
      jobs.reload();
      reports.reload();
    } catch (e) {
      setMsg({ ok: false, text: errorText(e) });
    } finally {
      setRunning(null);
    }
  };
  const list = <T,>(d: Page<T> | T[] | undefined): T[] => (Array.isArray(d) ? d : (d?.items ?? []));

  return (
    <section id="panel-jobs" role="tabpanel" aria-labelledby="tab-jobs">
      <h3>Jobs</h3>
      {msg && <Banner appearance={msg.ok ? 'success' : 'error'}>{msg.text}</Banner>}
      {jobs.loading ? (
        <Loading />
      ) : jobs.error instanceof ApiError && jobs.error.unavailable ? (
        <Unavailable what="Jobs" />
      ) : jobs.error ? (
        <ErrorBanner error={jobs.error} onRetry={jobs.reload} />
      ) : list(jobs.data).length === 0 ? (
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
              {list(jobs.data).map((j) => (
                <tr key={j.name}>
                  <td>
                    <div className="cell-title">{j.name}</div>
                    {j.description && <div className="cell-sub">{j.description}</div>}
                  </td>
                  <td>{j.schedule ?? '—'}</td>
                  <td>
                    <Time iso={j.lastRun?.startedAt} empty="never" />
                  </td>
                  <td>
                    {j.lastRun?.status ? <Lozenge appearance={runLook(j.lastRun.status)}>{j.lastRun.status}</Lozenge> : '—'}
                    {j.lastRun?.error && <div className="cell-sub field-error">{j.lastRun.error}</div>}
                  </td>
                  <td>
                    <Time iso={j.nextRunAt} empty="—" />
                  </td>
                  <td>
                    <Button onClick={() => run(j.name)} loading={running === j.name} disabled={!!running || j.running}>
                      Run now
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <div className="section">
        <h3>Reports</h3>
        {reports.loading ? (
          <Loading />
        ) : reports.error instanceof ApiError && reports.error.unavailable ? (
          <Unavailable what="Reports" />
        ) : reports.error ? (
          <ErrorBanner error={reports.error} onRetry={reports.reload} />
        ) : list(reports.data).length === 0 ? (
          <Empty title="No reports yet">Reconciliation and weekly reports appear here after the jobs run.</Empty>
        ) : (
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
                {list(reports.data).map((r) => (
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
                      {reportCounts(r) || summaryText(r.summary)}
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
        )}
      </div>
    </section>
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
