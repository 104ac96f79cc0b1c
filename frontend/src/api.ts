// Typed calls to keyward's API over whichever host the page runs in.
import type { Host, HostResponse } from './host';

let host: Host | null = null;

/** setHost installs the transport found at start. */
export function setHost(h: Host) {
  host = h;
}

export function currentHost(): Host {
  if (!host) throw new Error('no host');
  return host;
}

export interface FieldError {
  field: string;
  message: string;
}

/** ApiError is a non-2xx answer in keyward's one error shape. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public fields: FieldError[] = [],
  ) {
    super(message);
  }

  /** unavailable tells an endpoint that this server version does not have (screens of collection endpoints treat any 404/405 so). */
  get unavailable() {
    return this.status === 404 || this.status === 405;
  }

  /** fieldError is the message of a field, or of one of its elements ("redirectUris[1]"). */
  fieldError(name: string): string | undefined {
    const f = this.fields.find((x) => x.field === name || x.field.startsWith(name + '[') || x.field.startsWith(name + '.'));
    return f ? (f.field === name ? f.message : `${f.field}: ${f.message}`) : undefined;
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

/** qs renders a query string, leaving out empty values. */
export function qs(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}

function toError(r: HostResponse): ApiError {
  const b = r.body as { error?: { code?: string; message?: string; fields?: FieldError[] } } | string;
  if (b && typeof b === 'object' && b.error) {
    return new ApiError(r.status, b.error.code ?? '', b.error.message ?? `request failed (${r.status})`, b.error.fields ?? []);
  }
  return new ApiError(r.status, '', r.status === 0 ? 'the server could not be reached' : `request failed (${r.status})`);
}

export async function call<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
  let r: HostResponse;
  try {
    r = await currentHost().send(method, path + qs(opts.query), opts.body);
  } catch (e) {
    throw new ApiError(0, 'network', (e as Error).message || 'the server could not be reached');
  }
  if (r.status < 200 || r.status >= 300) throw toError(r);
  return r.body as T;
}

export const get = <T>(path: string, query?: Query) => call<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, { body: body ?? {} });
export const put = <T>(path: string, body?: unknown) => call<T>('PUT', path, { body });

export const ADMIN = '/api/admin/v1';
export const ME = '/api/me/v1';

/** errorText is what an error shows a person. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'Your session expired or is not valid. Reload the page.';
    if (e.status === 403 && e.code === 'forbidden') return 'You need to be a Jira administrator of this site to do this.';
    if (e.fields.length) return `${e.message}: ${e.fields.map((f) => `${f.field} ${f.message}`).join('; ')}`;
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
