import { useState } from 'react';
import { ME, ApiError, currentHost, errorText, get, post } from './api';
import type { ConsentRequest } from './types';
import { Banner, Button, Empty, Loading, Time, useAsync } from './ui';
import { AREAS } from './scopes';

function describe(scope: string): { title: string; detail: string } {
  if (scope === 'full') return { title: 'Full access to Tempo', detail: 'Everything you can do in Tempo, on your behalf.' };
  const [area, level] = scope.split(':');
  const a = AREAS.find((x) => x.key === area);
  const verb = level === 'manage' ? 'View and change' : 'View';
  return { title: `${verb} ${a?.label.toLowerCase() ?? area}`, detail: a ? a.covers : scope };
}

/** ConsentApp asks the signed-in user to approve or deny an OAuth app's request. */
export function ConsentApp() {
  const id = new URLSearchParams(window.location.search).get('request') ?? new URLSearchParams(window.location.search).get('ac.request') ?? '';
  const req = useAsync(() => (id ? get<ConsentRequest>(`${ME}/oauth/requests/${encodeURIComponent(id)}`) : Promise.reject(new ApiError(400, 'missing', 'This link has no authorization request.'))), [id]);
  const [busy, setBusy] = useState<'approve' | 'deny' | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [leaving, setLeaving] = useState(false);

  const decide = async (approve: boolean) => {
    setBusy(approve ? 'approve' : 'deny');
    setErr(null);
    try {
      const r = await post<{ redirectTo: string }>(`${ME}/oauth/requests/${encodeURIComponent(id)}/decision`, { approve });
      setLeaving(true);
      await currentHost().navigateTop(r.redirectTo);
    } catch (e) {
      setErr(e);
      setBusy(null);
    }
  };

  const r = req.data;
  return (
    <main className="consent">
      {req.loading ? (
        <Loading label="Loading the request" />
      ) : req.error ? (
        req.error instanceof ApiError && (req.error.status === 404 || req.error.status === 410) ? (
          <Empty title="This authorization request is no longer valid">It expired, was already answered, or belongs to another site. Go back to the app and start again.</Empty>
        ) : (
          <Banner title="Could not load the authorization request">{errorText(req.error)}</Banner>
        )
      ) : r ? (
        <div className="card">
          <h1 style={{ fontSize: 20 }}>
            Allow <strong>{r.client.name}</strong> to use Tempo as you?
          </h1>
          <p className="muted">
            On <strong>{r.site}</strong>. After your answer you return to <span className="mono">{r.redirectHost}</span>.
          </p>
          <div className="field-label" style={{ marginTop: 16 }}>
            It will be able to
          </div>
          <ul className="scope-list">
            {r.scopes.map((s) => {
              const d = describe(s);
              return (
                <li key={s}>
                  <strong>{d.title}</strong> <span className="muted small">({d.detail})</span>
                </li>
              );
            })}
          </ul>
          <p className="small muted">
            You can take this access back at any time under “My Tempo API keys → Apps you authorized”. This request expires <Time iso={r.expiresAt} />.
          </p>
          {r.allowed === false && (
            <Banner appearance="warning" title="You cannot allow this app">
              Your site's administrators made it available to other people only. You can deny the request.
            </Banner>
          )}
          {err ? <Banner title="Your answer was not recorded">{errorText(err)}</Banner> : null}
          {leaving ? (
            <Banner appearance="info" title="Returning to the app…" />
          ) : (
            <div className="btn-group" style={{ justifyContent: 'flex-end', display: 'flex' }}>
              <Button appearance="subtle" onClick={() => decide(false)} loading={busy === 'deny'} disabled={!!busy}>
                Deny
              </Button>
              <Button appearance="primary" onClick={() => decide(true)} loading={busy === 'approve'} disabled={!!busy || r.allowed === false} autoFocus={r.allowed !== false}>
                Allow
              </Button>
            </div>
          )}
        </div>
      ) : null}
    </main>
  );
}
