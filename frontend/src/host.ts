// Host detection and authenticated transport. The same build runs in three
// hosts: the Atlassian Connect iframe (context JWT from AP.context.getToken),
// a Forge Custom UI resource (@forge/bridge invokeRemote) and standalone dev
// mode (a token handed over in the URL fragment by /dev/admin or /dev/me).

export type View = 'admin' | 'me' | 'consent';
export type HostKind = 'connect' | 'forge' | 'dev';

/** HostResponse is an HTTP answer, whichever way it travelled. */
export interface HostResponse {
  status: number;
  header(name: string): string | null;
  body: unknown; // parsed JSON when the answer was JSON, otherwise text
}

/** Host carries the page's API calls with the right credentials. */
export interface Host {
  kind: HostKind;
  view: View;
  send(method: string, path: string, body?: unknown): Promise<HostResponse>;
  /** fetchStream is a plain fetch with credentials, for streamed downloads; absent in Forge. */
  fetchStream?(path: string): Promise<Response>;
  /** navigateTop leaves the page for url in the top-level window (OAuth redirects). */
  navigateTop(url: string): Promise<void>;
}

export type Detected = { ok: true; host: Host } | { ok: false; view: View; reason: string };

const CONNECT_JS = 'https://connect-cdn.atl-paas.net/all.js';
const DEV_KEY = 'keyward.dev.as';
const REFRESH_MARGIN_MS = 60_000;

/** viewFromPath maps /ui/admin, /ui/me and /ui/consent (under any prefix) to a view. */
export function viewFromPath(pathname: string): View {
  const seg = pathname.replace(/\/+$/, '').split('/').pop() ?? '';
  if (seg === 'me') return 'me';
  if (seg === 'consent') return 'consent';
  return 'admin';
}

/** apiPrefix is the app's base path: whatever precedes /ui/ in the page's path. */
export function apiPrefix(pathname: string): string {
  const i = pathname.indexOf('/ui/');
  return i > 0 ? pathname.slice(0, i) : '';
}

/** jwtExpiry reads the exp claim (ms since epoch) without verifying anything. */
export function jwtExpiry(token: string): number | null {
  try {
    const part = token.split('.')[1];
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** TokenCache keeps one bearer credential fresh: it refetches a minute before expiry. */
export class TokenCache {
  private token = '';
  private expires = 0;
  private pending: Promise<string> | null = null;
  constructor(private fetchToken: () => Promise<{ token: string; expiresAt?: number | null }>) {}

  seed(token: string, expiresAt?: number | null) {
    this.token = token;
    this.expires = expiresAt ?? jwtExpiry(token) ?? Date.now() + 5 * 60_000;
  }

  invalidate() {
    this.expires = 0;
  }

  async get(): Promise<string> {
    if (this.token && Date.now() < this.expires - REFRESH_MARGIN_MS) return this.token;
    if (!this.pending) {
      this.pending = this.fetchToken()
        .then(({ token, expiresAt }) => {
          this.seed(token, expiresAt);
          return token;
        })
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }
}

async function toHostResponse(r: Response): Promise<HostResponse> {
  const text = r.status === 204 ? '' : await r.text();
  let body: unknown = text;
  if ((r.headers.get('Content-Type') ?? '').includes('json') && text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: r.status, header: (n) => r.headers.get(n), body };
}

/** fetchHost is the transport of the Connect and dev hosts: same-origin fetch with Authorization. */
function fetchHost(kind: HostKind, view: View, prefix: string, tokens: TokenCache, scheme: string, navigateTop: (u: string) => Promise<void>): Host {
  const authed = async (method: string, path: string, body?: unknown, retry = true): Promise<Response> => {
    const headers: Record<string, string> = { Authorization: `${scheme} ${await tokens.get()}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(prefix + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
    if (r.status === 401 && retry) {
      tokens.invalidate();
      return authed(method, path, body, false);
    }
    return r;
  };
  return {
    kind,
    view,
    send: async (method, path, body) => toHostResponse(await authed(method, path, body)),
    fetchStream: (path) => authed('GET', path),
    navigateTop,
  };
}

interface AP {
  context: { getToken(cb?: (t: string) => void): Promise<string> | void };
  navigator?: { go?(target: string, ctx: Record<string, unknown>): void };
}

function loadConnectJS(timeoutMs: number): Promise<AP> {
  return new Promise((resolve, reject) => {
    const w = window as unknown as { AP?: AP };
    if (w.AP) return resolve(w.AP);
    const s = document.createElement('script');
    s.src = CONNECT_JS;
    s.async = true;
    s.setAttribute('data-options', 'sizeToParent:true;hideFooter:true');
    const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    s.onload = () => {
      clearTimeout(timer);
      w.AP ? resolve(w.AP) : reject(new Error('AP missing'));
    };
    s.onerror = () => {
      clearTimeout(timer);
      reject(new Error('unreachable'));
    };
    document.head.appendChild(s);
  });
}

function connectToken(ap: AP): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('AP.context.getToken timed out')), 15_000);
    const done = (t: string) => {
      clearTimeout(timer);
      resolve(t);
    };
    const p = ap.context.getToken(done);
    if (p && typeof (p as Promise<string>).then === 'function') (p as Promise<string>).then(done, reject);
  });
}

async function topNavigate(url: string) {
  try {
    (window.top ?? window).location.href = url;
  } catch {
    window.open(url, '_top');
  }
}

interface ForgeBridge {
  callBridge?: unknown;
}

function inIframe(): boolean {
  try {
    return window.self !== window.top;
  } catch {
    return true;
  }
}

async function forgeHost(fallbackView: View): Promise<Host> {
  const bridge = await import('@forge/bridge');
  let view = fallbackView;
  try {
    const ctx = (await bridge.view.getContext()) as { moduleKey?: string };
    const key = ctx.moduleKey ?? '';
    if (key.includes('consent')) view = 'consent';
    else if (key.includes('my-keys') || key.includes('personal')) view = 'me';
    else if (key.includes('admin')) view = 'admin';
  } catch {
    /* keep the path's view */
  }
  return {
    kind: 'forge',
    view,
    async send(method, path, body) {
      const r = await bridge.invokeRemote({
        path,
        method: method as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
        headers: body === undefined ? { Accept: 'application/json' } : { 'Content-Type': 'application/json', Accept: 'application/json' },
        body,
      });
      const headers = (r?.headers ?? {}) as Record<string, string | string[]>;
      let b: unknown = r?.body;
      if (typeof b === 'string') {
        try {
          b = JSON.parse(b);
        } catch {
          /* text */
        }
      }
      return {
        status: r?.status ?? 0,
        header: (n) => {
          const k = Object.keys(headers).find((h) => h.toLowerCase() === n.toLowerCase());
          const v = k ? headers[k] : undefined;
          return v === undefined ? null : Array.isArray(v) ? v.join(',') : v;
        },
        body: b,
      };
    },
    navigateTop: (url) => bridge.router.navigate(url),
  };
}

/** readFragmentToken takes #token=… out of the address bar and returns it. */
function readFragmentToken(): string | null {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!m) return null;
  const rest = window.location.hash.replace(/^#/, '').split('&').filter((p) => !p.startsWith('token=')).join('&');
  history.replaceState(history.state, '', window.location.pathname + window.location.search + (rest ? '#' + rest : ''));
  return decodeURIComponent(m[1]);
}

function devHost(view: View, prefix: string, as: string, token: string | null): Host {
  const tokens = new TokenCache(async () => {
    const r = await fetch(`${prefix}/dev/token?as=${encodeURIComponent(as)}`, { cache: 'no-store', credentials: 'omit' });
    if (!r.ok) throw new Error(`dev token refresh failed (${r.status}); is the server still running with KEYWARD_DEV=1?`);
    const j = (await r.json()) as { token: string; expiresAt?: string };
    return { token: j.token, expiresAt: j.expiresAt ? Date.parse(j.expiresAt) : null };
  });
  if (token) tokens.seed(token);
  return fetchHost('dev', view, prefix, tokens, 'JWT', async (url) => {
    window.location.assign(url);
  });
}

/** devToken asks /dev/token, which answers only in dev mode. */
async function devToken(prefix: string, as: string): Promise<string | null> {
  try {
    const r = await fetch(`${prefix}/dev/token?as=${encodeURIComponent(as)}`, { cache: 'no-store', credentials: 'omit' });
    if (!r.ok || !(r.headers.get('Content-Type') ?? '').includes('json')) return null;
    const j = (await r.json()) as { token?: string };
    return j.token || null;
  } catch {
    return null;
  }
}

/** detectHost decides, once at start, which host the page runs in. */
export async function detectHost(): Promise<Detected> {
  const loc = window.location;
  const view = viewFromPath(loc.pathname);
  const prefix = apiPrefix(loc.pathname);

  // Forge Custom UI: the host injects the bridge before the app runs.
  if ((globalThis as unknown as { __bridge?: ForgeBridge }).__bridge?.callBridge) {
    return { ok: true, host: await forgeHost(view) };
  }

  // Dev mode: /dev/admin and /dev/me redirect here with #token=…
  const fragToken = readFragmentToken();
  if (fragToken) {
    const as = view === 'admin' ? 'admin' : 'user';
    try {
      sessionStorage.setItem(DEV_KEY, as);
    } catch {
      /* storage may be blocked */
    }
    return { ok: true, host: devHost(view, prefix, as, fragToken) };
  }
  // Dev mode after a reload, or a page dev mode links to directly (the
  // consent page): ask the dev token endpoint, which exists only with
  // KEYWARD_DEV=1 on a loopback address.
  const q = new URLSearchParams(loc.search);
  const connectParams = q.has('xdm_e') || q.has('jwt') || q.has('cp');
  if (!inIframe() && !connectParams) {
    let as = view === 'admin' ? 'admin' : 'user';
    try {
      if (view === 'admin' && sessionStorage.getItem(DEV_KEY) === 'user') as = 'user';
    } catch {
      /* ignore */
    }
    const token = await devToken(prefix, as);
    if (token) return { ok: true, host: devHost(view, prefix, as, token) };
  }

  // Connect: Jira frames the page with xdm_e/jwt/cp in its query.
  if (inIframe() || connectParams) {
    try {
      const ap = await loadConnectJS(10_000);
      const tokens = new TokenCache(async () => {
        const t = await connectToken(ap);
        return { token: t, expiresAt: jwtExpiry(t) };
      });
      return { ok: true, host: fetchHost('connect', view, prefix, tokens, 'JWT', topNavigate) };
    } catch (e) {
      return { ok: false, view, reason: `Atlassian Connect JS could not be loaded from ${CONNECT_JS} (${(e as Error).message}). Reload the page; if it persists, check that your network allows connect-cdn.atl-paas.net.` };
    }
  }

  return {
    ok: false,
    view,
    reason: 'This page runs inside Jira. Open it from Jira settings (Apps → Tempo API access) or from your profile menu (My Tempo API keys), or run keyward in dev mode (KEYWARD_DEV=1) and open /dev/admin or /dev/me.',
  };
}
