import { useEffect, useState } from 'react';
import { ADMIN, ApiError, get, put } from '../api';
import type { OffboardingSettings } from '../types';
import { Banner, Button, ErrorBanner, Field, Loading, Time, Unavailable, fieldErr } from '../ui';

const PATH = `${ADMIN}/settings/offboarding`;

interface Form {
  autoRevoke: boolean;
  graceMinutes: string;
  exempt: string;
  staleDays: string;
  revokeStale: boolean;
  webhookUrl: string;
  webhookSecret: string; // write only: empty keeps the stored secret
}

function toForm(s: OffboardingSettings): Form {
  return {
    autoRevoke: s.autoRevoke,
    graceMinutes: String(Math.round((s.gracePeriodSeconds ?? 0) / 60)),
    exempt: (s.exemptAccountIds ?? []).join('\n'),
    staleDays: String(s.staleAfterDays ?? 0),
    revokeStale: s.revokeStale,
    webhookUrl: s.reportWebhookUrl ?? '',
    webhookSecret: '',
  };
}

/** Offboarding edits the site's offboarding rules (auto-revoke, grace period, exemptions, stale keys, report webhook). */
export function Offboarding() {
  const [saved, setSaved] = useState<OffboardingSettings | null>(null);
  const [f, setF] = useState<Form | null>(null);
  const [loadErr, setLoadErr] = useState<unknown>(null);
  const [saveErr, setSaveErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    setLoadErr(null);
    get<OffboardingSettings>(PATH).then((v) => {
      setSaved(v);
      setF(toForm(v));
    }, setLoadErr);
  }, [tick]);

  if (loadErr instanceof ApiError && loadErr.unavailable) return <Unavailable what="Offboarding settings" />;
  if (loadErr) return <ErrorBanner error={loadErr} onRetry={() => setTick((t) => t + 1)} />;
  if (!f || !saved) return <Loading />;

  const set = <K extends keyof Form>(k: K, v: Form[K]) => {
    setOk(false);
    setF({ ...f, [k]: v });
  };
  const save = async () => {
    setBusy(true);
    setSaveErr(null);
    setOk(false);
    try {
      const body: Record<string, unknown> = {
        autoRevoke: f.autoRevoke,
        gracePeriodSeconds: Math.round(Number(f.graceMinutes || 0) * 60),
        exemptAccountIds: f.exempt.split(/[\s,]+/).filter(Boolean),
        staleAfterDays: Number(f.staleDays || 0),
        revokeStale: f.revokeStale,
        reportWebhookUrl: f.webhookUrl.trim(),
      };
      if (f.webhookSecret) body.reportWebhookSecret = f.webhookSecret;
      const v = await put<OffboardingSettings>(PATH, body);
      setSaved(v);
      setF(toForm(v));
      setOk(true);
    } catch (e) {
      setSaveErr(e);
    } finally {
      setBusy(false);
    }
  };
  const fieldsOnly = saveErr instanceof ApiError && saveErr.fields.length > 0;

  return (
    <section id="panel-offboarding" role="tabpanel" aria-labelledby="tab-offboarding">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
        style={{ maxWidth: 760 }}
      >
        <div className="card">
          <h3>People who leave</h3>
          <label className="check" style={{ marginBottom: 12 }}>
            <input type="checkbox" checked={f.autoRevoke} onChange={(e) => set('autoRevoke', e.target.checked)} />
            Revoke every key and grant of a person deactivated or deleted in Jira
          </label>
          <div className="grid-2">
            <Field id="ob-grace" label="Grace period (minutes)" error={fieldErr(saveErr, 'gracePeriodSeconds')} help="Wait this long after deactivation before revoking; 0 revokes at once.">
              <input id="ob-grace" type="number" min={0} value={f.graceMinutes} onChange={(e) => set('graceMinutes', e.target.value)} />
            </Field>
            <Field id="ob-exempt" label="Exempt account IDs" error={fieldErr(saveErr, 'exemptAccountIds')} help="One per line: service accounts that auto-revoke leaves alone.">
              <textarea id="ob-exempt" value={f.exempt} onChange={(e) => set('exempt', e.target.value)} />
            </Field>
          </div>
        </div>
        <div className="card">
          <h3>Unused keys</h3>
          <div className="grid-2">
            <Field id="ob-stale" label="Stale after (days unused)" error={fieldErr(saveErr, 'staleAfterDays')} help="0 turns stale detection off.">
              <input id="ob-stale" type="number" min={0} value={f.staleDays} onChange={(e) => set('staleDays', e.target.value)} />
            </Field>
            <label className="check" style={{ alignSelf: 'center' }}>
              <input type="checkbox" checked={f.revokeStale} onChange={(e) => set('revokeStale', e.target.checked)} />
              Revoke stale credentials (otherwise only report them)
            </label>
          </div>
        </div>
        <div className="card">
          <h3>Reports</h3>
          <div className="grid-2">
            <Field id="ob-webhook" label="Report webhook URL" error={fieldErr(saveErr, 'reportWebhookUrl')} help="Each reconciliation report is POSTed here (HTTPS).">
              <input id="ob-webhook" type="url" placeholder="https://hooks.example.com/keyward" value={f.webhookUrl} onChange={(e) => set('webhookUrl', e.target.value)} />
            </Field>
            <Field id="ob-secret" label="Webhook signing secret" error={fieldErr(saveErr, 'reportWebhookSecret')} help={saved.reportWebhookSecretSet ? 'A secret is set; leave empty to keep it.' : 'Used to sign deliveries (HMAC); never shown again.'}>
              <input id="ob-secret" type="password" autoComplete="new-password" value={f.webhookSecret} onChange={(e) => set('webhookSecret', e.target.value)} />
            </Field>
          </div>
        </div>
        {saveErr && !fieldsOnly ? <ErrorBanner error={saveErr} /> : null}
        {fieldsOnly && <Banner title="Some fields need attention">{(saveErr as ApiError).fields.map((x) => `${x.field}: ${x.message}`).join('; ')}</Banner>}
        {ok && <Banner appearance="success" title="Settings saved" />}
        <div className="btn-group">
          <Button type="submit" appearance="primary" loading={busy}>
            Save settings
          </Button>
          {saved.updatedAt && (
            <span className="muted small">
              Last changed <Time iso={saved.updatedAt} /> {saved.updatedBy ? `by ${saved.updatedBy}` : ''}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
