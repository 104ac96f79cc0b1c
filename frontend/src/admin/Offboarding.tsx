import { useEffect, useState } from 'react';
import { ADMIN, ApiError, get, put } from '../api';
import type { OffboardingSettings } from '../types';
import { Banner, Button, ErrorBanner, Field, Loading, Unavailable, fieldErr } from '../ui';

const PATH = `${ADMIN}/settings/offboarding`;

/** Offboarding edits the site's offboarding rules (auto-revoke, grace period, exemptions, stale keys, report webhook). */
export function Offboarding() {
  const [s, setS] = useState<OffboardingSettings | null>(null);
  const [exempt, setExempt] = useState('');
  const [loadErr, setLoadErr] = useState<unknown>(null);
  const [saveErr, setSaveErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    setLoadErr(null);
    get<OffboardingSettings>(PATH).then(
      (v) => {
        setS(v);
        setExempt((v.exemptAccountIds ?? []).join('\n'));
      },
      setLoadErr,
    );
  }, [tick]);

  if (loadErr instanceof ApiError && loadErr.unavailable) return <Unavailable what="Offboarding settings" />;
  if (loadErr) return <ErrorBanner error={loadErr} onRetry={() => setTick((t) => t + 1)} />;
  if (!s) return <Loading />;

  const set = <K extends keyof OffboardingSettings>(k: K, v: OffboardingSettings[K]) => {
    setSaved(false);
    setS({ ...s, [k]: v });
  };
  const save = async () => {
    setBusy(true);
    setSaveErr(null);
    setSaved(false);
    try {
      const body = { ...s, exemptAccountIds: exempt.split(/[\s,]+/).filter(Boolean) };
      const v = await put<OffboardingSettings>(PATH, body);
      if (v && typeof v === 'object') {
        setS(v);
        setExempt((v.exemptAccountIds ?? []).join('\n'));
      }
      setSaved(true);
    } catch (e) {
      setSaveErr(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section id="panel-offboarding" role="tabpanel" aria-labelledby="tab-offboarding">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
        style={{ maxWidth: 720 }}
      >
        <div className="card">
          <h3>People who leave</h3>
          <label className="check" style={{ marginBottom: 12 }}>
            <input type="checkbox" checked={s.autoRevoke} onChange={(e) => set('autoRevoke', e.target.checked)} />
            Revoke every key and grant of a person deactivated or deleted in Jira
          </label>
          <div className="grid-2">
            <Field id="ob-grace" label="Grace period (minutes)" error={fieldErr(saveErr, 'gracePeriodMinutes')} help="Wait this long after deactivation before revoking; 0 revokes at once.">
              <input id="ob-grace" type="number" min={0} value={s.gracePeriodMinutes} onChange={(e) => set('gracePeriodMinutes', Number(e.target.value))} />
            </Field>
            <Field id="ob-exempt" label="Exempt account IDs" error={fieldErr(saveErr, 'exemptAccountIds')} help="One per line: service accounts that auto-revoke leaves alone.">
              <textarea id="ob-exempt" value={exempt} onChange={(e) => { setSaved(false); setExempt(e.target.value); }} />
            </Field>
          </div>
        </div>
        <div className="card">
          <h3>Unused keys</h3>
          <div className="grid-2">
            <Field id="ob-stale" label="Stale after (days unused)" error={fieldErr(saveErr, 'staleDays')} help="0 turns stale detection off.">
              <input id="ob-stale" type="number" min={0} value={s.staleDays} onChange={(e) => set('staleDays', Number(e.target.value))} />
            </Field>
            <label className="check" style={{ alignSelf: 'center' }}>
              <input type="checkbox" checked={s.revokeStale} onChange={(e) => set('revokeStale', e.target.checked)} />
              Revoke stale credentials (otherwise only report them)
            </label>
          </div>
        </div>
        <div className="card">
          <h3>Reports</h3>
          <Field id="ob-webhook" label="Report webhook URL" error={fieldErr(saveErr, 'reportWebhookUrl')} help="Each reconciliation report is POSTed here (HTTPS), signed with HMAC.">
            <input id="ob-webhook" type="url" placeholder="https://hooks.example.com/keyward" value={s.reportWebhookUrl ?? ''} onChange={(e) => set('reportWebhookUrl', e.target.value)} />
          </Field>
        </div>
        {saveErr && !(saveErr instanceof ApiError && saveErr.fields.length) ? <ErrorBanner error={saveErr} /> : null}
        {saveErr instanceof ApiError && saveErr.fields.length > 0 && <Banner title="Some fields need attention">{saveErr.message}</Banner>}
        {saved && <Banner appearance="success" title="Settings saved" />}
        <Button type="submit" appearance="primary" loading={busy}>
          Save settings
        </Button>
      </form>
    </section>
  );
}
