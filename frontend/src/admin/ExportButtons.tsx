import { useRef, useState } from 'react';
import { ADMIN, errorText, qs, type Query } from '../api';
import { download, type Progress } from '../download';
import { Button } from '../ui';
import { count } from '../format';

/** ExportButtons downloads one export (inventory or access log) as CSV or NDJSON with progress. */
export function ExportButtons({ what, label, query }: { what: 'credentials' | 'access-log'; label: string; query: Query }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const abort = useRef<AbortController | null>(null);

  const run = async (format: 'csv' | 'ndjson') => {
    setBusy(format);
    setMsg(null);
    setProgress(null);
    abort.current = new AbortController();
    const stamp = new Date().toISOString().slice(0, 10);
    try {
      const rows = await download(`${ADMIN}/export/${what}${qs({ ...query, format })}`, `keyward-${what}-${stamp}.${format}`, setProgress, abort.current.signal);
      setMsg({ ok: true, text: `Exported ${count(rows)} rows.` });
    } catch (e) {
      setMsg({ ok: false, text: (e as Error).name === 'AbortError' ? 'Export cancelled.' : errorText(e) });
    } finally {
      setBusy(null);
      abort.current = null;
    }
  };
  const pct = progress?.total ? Math.min(100, Math.round((progress.rows / Math.max(1, progress.total)) * 100)) : null;
  return (
    <div className="btn-group" aria-label={`Export ${label}`}>
      <Button onClick={() => run('csv')} loading={busy === 'csv'} disabled={!!busy}>
        Export {label} CSV
      </Button>
      <Button onClick={() => run('ndjson')} loading={busy === 'ndjson'} disabled={!!busy}>
        NDJSON
      </Button>
      {busy && (
        <>
          <div className={`progress ${pct === null ? 'progress-indeterminate' : ''}`} role="progressbar" aria-label="Export progress" aria-valuenow={pct ?? undefined} aria-valuemin={0} aria-valuemax={100}>
            <div style={{ width: `${pct ?? 30}%` }} />
          </div>
          <span className="small muted" aria-live="polite">
            {count(progress?.rows ?? 0)}
            {progress?.total ? ` of about ${count(progress.total)}` : ''} rows
          </span>
          <Button appearance="subtle" onClick={() => abort.current?.abort()}>
            Cancel
          </Button>
        </>
      )}
      {!busy && msg && (
        <span className={`small ${msg.ok ? 'muted' : 'field-error'}`} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </span>
      )}
    </div>
  );
}
