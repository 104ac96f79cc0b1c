import { useEffect, useState } from 'react';
import { ADMIN, ApiError, errorText, post } from '../api';
import type { RevokePreview } from '../types';
import { Banner, Button, Dialog, Field, Loading, StatusLozenge, fieldErr } from '../ui';
import { count, plural } from '../format';

export type RevokeTarget =
  | { kind: 'ids'; ids: string[]; label: string }
  | { kind: 'filter'; filter: Record<string, string | number | boolean>; label: string }
  | { kind: 'all'; label: string };

function previewBody(t: RevokeTarget) {
  if (t.kind === 'ids') return { ids: t.ids };
  if (t.kind === 'filter') return { filter: t.filter };
  return { all: true };
}

const ALL_WORD = 'REVOKE';

/** BulkRevoke previews a bulk revocation (count and sample), asks for a reason, then revokes with the preview's confirmation token. */
export function BulkRevoke({ target, onClose, onDone }: { target: RevokeTarget; onClose: () => void; onDone: () => void }) {
  const [preview, setPreview] = useState<RevokePreview | null>(null);
  const [loadErr, setLoadErr] = useState<unknown>(null);
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [revoked, setRevoked] = useState<number | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setPreview(null);
    setLoadErr(null);
    post<RevokePreview>(`${ADMIN}/credentials/revoke/preview`, previewBody(target)).then(
      (p) => live && setPreview(p),
      (e) => live && setLoadErr(e),
    );
    return () => {
      live = false;
    };
  }, [target, attempt]);

  const expired = err instanceof ApiError && (err.status === 409 || err.status === 410 || err.code === 'confirmation_expired');
  const needsWord = target.kind === 'all';
  const canSubmit = !!preview && preview.count > 0 && reason.trim() !== '' && (!needsWord || typed === ALL_WORD) && !busy;

  const submit = async () => {
    if (!canSubmit || !preview) return;
    setBusy(true);
    setErr(null);
    try {
      const r = await post<{ revoked: number }>(`${ADMIN}/credentials/revoke`, { confirmation: preview.confirmation, reason: reason.trim() });
      setRevoked(r.revoked);
      onDone();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };

  if (revoked !== null) {
    return (
      <Dialog title="Credentials revoked" onClose={onClose} width="small" footer={<Button appearance="primary" onClick={onClose} autoFocus>Done</Button>}>
        <Banner appearance="success" title={`${plural(revoked, 'credential')} revoked`}>
          They stop working within seconds. The revocation is recorded in the audit log with your reason.
        </Banner>
      </Dialog>
    );
  }

  return (
    <Dialog
      title={`Revoke ${target.label}`}
      onClose={onClose}
      onSubmit={submit}
      footer={
        <>
          <Button appearance="subtle" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" appearance="danger" disabled={!canSubmit} loading={busy}>
            {preview ? `Revoke ${plural(preview.count, 'credential')}` : 'Revoke'}
          </Button>
        </>
      }
    >
      {!preview && !loadErr && <Loading label="Counting what would be revoked" />}
      {loadErr ? (
        <Banner title="Could not prepare the revocation" actions={<Button onClick={() => setAttempt((a) => a + 1)}>Try again</Button>}>
          {errorText(loadErr)}
        </Banner>
      ) : null}
      {preview && (
        <>
          {preview.count === 0 ? (
            <Banner appearance="info" title="Nothing to revoke">
              No active credential matches. Already revoked or expired credentials are left as they are.
            </Banner>
          ) : (
            <>
              <p>
                <span className="big-count" data-testid="preview-count">
                  {count(preview.count)}
                </span>{' '}
                active {preview.count === 1 ? 'credential' : 'credentials'} will be revoked. Their owners and the apps using them lose access immediately. This cannot be undone.
              </p>
              {preview.sample?.length > 0 && (
                <>
                  <div className="field-label">{preview.sample.length < preview.count ? `A sample of ${preview.sample.length}` : 'They are'}</div>
                  <ul className="sample" aria-label="Sample of credentials to revoke">
                    {preview.sample.map((c) => (
                      <li key={c.id}>
                        <span>
                          <strong>{c.name || '(unnamed)'}</strong> <span className="mono muted">{c.hint}</span>
                        </span>
                        <span className="muted">
                          {c.owner?.displayName || c.owner?.accountId} <StatusLozenge status={c.status} />
                        </span>
                      </li>
                    ))}
                  </ul>
                </>
              )}
              <Field id="bulk-reason" label="Reason" required error={fieldErr(err, 'reason')} help="Recorded in the audit log with your name.">
                <input type="text" id="bulk-reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus placeholder="e.g. Offboarding contractor team" />
              </Field>
              {needsWord && (
                <Field id="bulk-word" label={`Type ${ALL_WORD} to confirm revoking everything in this site`} required>
                  <input id="bulk-word" type="text" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
                </Field>
              )}
            </>
          )}
          {err && !fieldErr(err, 'reason') ? (
            <Banner
              title={expired ? 'The preview expired' : 'Revocation failed'}
              actions={
                expired && (
                  <Button
                    onClick={() => {
                      setErr(null);
                      setAttempt((a) => a + 1);
                    }}
                  >
                    Preview again
                  </Button>
                )
              }
            >
              {errorText(err)}
            </Banner>
          ) : null}
        </>
      )}
    </Dialog>
  );
}
