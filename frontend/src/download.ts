// Streamed downloads (exports, reports) with the host's credentials and a
// progress count from X-Total-Estimate.
import { ApiError, currentHost } from './api';

export interface Progress {
  rows: number;
  total: number | null; // X-Total-Estimate, when the server sent one
}

function save(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** download fetches path, reports rows received as they stream in, and saves the file. */
export async function download(path: string, filename: string, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<number> {
  const host = currentHost();
  if (!host.fetchStream) {
    // Forge: invokeRemote returns the whole body at once.
    const r = await host.send('GET', path);
    if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, '', `download failed (${r.status})`);
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2);
    save(new Blob([text], { type: r.header('Content-Type') ?? 'application/octet-stream' }), filename);
    return text.split('\n').length;
  }
  const r = await host.fetchStream(path);
  if (!r.ok) {
    let msg = `download failed (${r.status})`;
    try {
      msg = (await r.json()).error?.message ?? msg;
    } catch {
      /* not JSON */
    }
    throw new ApiError(r.status, '', msg);
  }
  const est = r.headers.get('X-Total-Estimate');
  const total = est !== null && est !== '' && !Number.isNaN(Number(est)) ? Number(est) : null;
  const csv = filename.endsWith('.csv');
  const chunks: BlobPart[] = [];
  let lines = 0;
  onProgress({ rows: 0, total });
  if (r.body) {
    const reader = r.body.getReader();
    for (;;) {
      if (signal?.aborted) {
        await reader.cancel();
        throw new DOMException('cancelled', 'AbortError');
      }
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      for (let i = 0; i < value.length; i++) if (value[i] === 10) lines++;
      onProgress({ rows: Math.max(0, csv ? lines - 1 : lines), total });
    }
  } else {
    const b = await r.arrayBuffer();
    chunks.push(b);
  }
  const rows = Math.max(0, csv ? lines - 1 : lines);
  save(new Blob(chunks, { type: r.headers.get('Content-Type') ?? 'application/octet-stream' }), filename);
  onProgress({ rows, total });
  return rows;
}
