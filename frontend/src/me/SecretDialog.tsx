import { Banner, Button, CopyButton, Dialog } from '../ui';
import type { IssuedKey } from '../types';

/** SecretDialog shows a freshly issued secret once; closing it forgets the secret. */
export function SecretDialog({ issued, onClose }: { issued: IssuedKey; onClose: () => void }) {
  return (
    <Dialog
      title={`Your new key “${issued.key.name}”`}
      onClose={onClose}
      footer={
        <Button appearance="primary" onClick={onClose}>
          I have copied it
        </Button>
      }
    >
      <Banner appearance="warning" title="This secret is shown only once">
        {issued.notice || 'It is shown only once and cannot be recovered.'} Store it in a password manager or your integration's secret store; anyone holding it can call the Tempo API as you.
      </Banner>
      <div className="secret-box">
        <input type="text" readOnly value={issued.secret} aria-label="API key secret" data-testid="secret" onFocus={(e) => e.currentTarget.select()} autoFocus />
        <CopyButton text={issued.secret} />
      </div>
      <p className="muted small">Send it as a bearer token: Authorization: Bearer {issued.key.hint}…</p>
    </Dialog>
  );
}
