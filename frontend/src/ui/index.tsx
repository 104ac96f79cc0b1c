// Small building blocks with the Atlassian Design System look (tokens in
// styles.css): buttons, lozenges, modal dialogs, fields, tabs, states.
import { useEffect, useId, useRef, useState, type ReactNode, type ButtonHTMLAttributes, type KeyboardEvent } from 'react';
import { absolute, relative } from '../format';
import { ApiError, errorText } from '../api';

type Appearance = 'default' | 'primary' | 'danger' | 'subtle' | 'link' | 'warning';

export function Button({ appearance = 'default', loading, children, className, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { appearance?: Appearance; loading?: boolean }) {
  return (
    <button type="button" {...rest} className={`btn btn-${appearance} ${className ?? ''}`} disabled={rest.disabled || loading} aria-busy={loading || undefined}>
      {loading && <Spinner size="small" />}
      {children}
    </button>
  );
}

export type LozengeAppearance = 'default' | 'success' | 'removed' | 'moved' | 'inprogress' | 'new';

export function Lozenge({ appearance = 'default', children, title }: { appearance?: LozengeAppearance; children: ReactNode; title?: string }) {
  return (
    <span className={`lozenge lozenge-${appearance}`} title={title}>
      {children}
    </span>
  );
}

const statusLook: Record<string, LozengeAppearance> = { active: 'success', expired: 'moved', revoked: 'removed' };

export function StatusLozenge({ status }: { status: string }) {
  return <Lozenge appearance={statusLook[status] ?? 'default'}>{status}</Lozenge>;
}

export function Spinner({ size = 'medium', label }: { size?: 'small' | 'medium' | 'large'; label?: string }) {
  return <span className={`spinner spinner-${size}`} role={label ? 'status' : undefined} aria-label={label} />;
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <Spinner size="large" />
      <span>{label}…</span>
    </div>
  );
}

export function Banner({ appearance = 'error', title, children, actions }: { appearance?: 'error' | 'warning' | 'info' | 'success'; title?: string; children?: ReactNode; actions?: ReactNode }) {
  return (
    <div className={`banner banner-${appearance}`} role={appearance === 'error' ? 'alert' : 'status'}>
      <div className="banner-icon" aria-hidden="true">
        {appearance === 'error' ? '!' : appearance === 'warning' ? '!' : appearance === 'success' ? '✓' : 'i'}
      </div>
      <div className="banner-body">
        {title && <strong className="banner-title">{title}</strong>}
        {children && <div>{children}</div>}
        {actions && <div className="banner-actions">{actions}</div>}
      </div>
    </div>
  );
}

/** ErrorBanner shows an API error's message (and a retry when given). */
export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <Banner title="Something went wrong" actions={onRetry && <Button onClick={onRetry}>Try again</Button>}>
      {errorText(error)}
    </Banner>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-art" aria-hidden="true" />
      <h3>{title}</h3>
      {children && <p>{children}</p>}
    </div>
  );
}

/** Unavailable is the state of a screen whose API this server does not have yet. */
export function Unavailable({ what }: { what: string }) {
  return <Empty title={`${what} is not available in this version`}>This keyward server does not offer it yet. Upgrade the server to use it.</Empty>;
}

export function Time({ iso, empty = '—', mode = 'relative' }: { iso?: string | null; empty?: string; mode?: 'relative' | 'absolute' }) {
  if (!iso) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={absolute(iso)}>
      {mode === 'relative' ? relative(iso) : absolute(iso)}
    </time>
  );
}

/** Dialog is a modal: focus stays inside, Escape closes, Enter submits its form. */
export function Dialog({ title, onClose, children, footer, width = 'medium', onSubmit, variant = 'modal', labelledBy }: {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  width?: 'small' | 'medium' | 'large';
  onSubmit?: () => void;
  variant?: 'modal' | 'drawer';
  labelledBy?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    const first = d.querySelector<HTMLElement>('[autofocus], [data-autofocus]');
    (first ?? d.querySelector<HTMLElement>('input, textarea, select, button:not(.dialog-close)'))?.focus();
    const cancel = (e: Event) => {
      e.preventDefault();
      close.current();
    };
    d.addEventListener('cancel', cancel);
    return () => {
      d.removeEventListener('cancel', cancel);
      if (d.open) d.close();
      opener?.focus?.();
    };
  }, []);
  const body = (
    <>
      <header className="dialog-header">
        <h2 id={labelledBy ?? id}>{title}</h2>
        <button type="button" className="dialog-close" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="dialog-body">{children}</div>
      {footer && <footer className="dialog-footer">{footer}</footer>}
    </>
  );
  return (
    <dialog ref={ref} className={`dialog dialog-${variant} dialog-${width}`} aria-labelledby={labelledBy ?? id} onClick={(e) => e.target === ref.current && onClose()}>
      {onSubmit ? (
        <form
          className="dialog-inner"
          onSubmit={(e) => {
            e.preventDefault();
            onSubmit();
          }}
        >
          {body}
        </form>
      ) : (
        <div className="dialog-inner">{body}</div>
      )}
    </dialog>
  );
}

export function Field({ label, error, help, children, id, required }: { label: ReactNode; error?: string; help?: ReactNode; children: ReactNode; id: string; required?: boolean }) {
  return (
    <div className={`field ${error ? 'field-invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {required && (
          <span className="required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </label>
      {children}
      {error ? (
        <div className="field-error" id={`${id}-error`} role="alert">
          {error}
        </div>
      ) : (
        help && <div className="field-help">{help}</div>
      )}
    </div>
  );
}

/** fieldErr picks a field's message from an ApiError. */
export function fieldErr(e: unknown, name: string): string | undefined {
  return e instanceof ApiError ? e.fieldError(name) : undefined;
}

export interface TabDef {
  key: string;
  label: string;
}

/** Tabs is an ARIA tablist: arrow keys move between tabs. */
export function Tabs({ tabs, current, onChange, label }: { tabs: TabDef[]; current: string; onChange: (k: string) => void; label: string }) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const onKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.key === current);
    let n = -1;
    if (e.key === 'ArrowRight') n = (i + 1) % tabs.length;
    if (e.key === 'ArrowLeft') n = (i - 1 + tabs.length) % tabs.length;
    if (e.key === 'Home') n = 0;
    if (e.key === 'End') n = tabs.length - 1;
    if (n >= 0) {
      e.preventDefault();
      onChange(tabs[n].key);
      refs.current[tabs[n].key]?.focus();
    }
  };
  return (
    <div className="tabs" role="tablist" aria-label={label} onKeyDown={onKey}>
      {tabs.map((t) => (
        <button
          key={t.key}
          ref={(el) => {
            refs.current[t.key] = el;
          }}
          role="tab"
          type="button"
          id={`tab-${t.key}`}
          aria-selected={t.key === current}
          aria-controls={`panel-${t.key}`}
          tabIndex={t.key === current ? 0 : -1}
          className="tab"
          onClick={() => onChange(t.key)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

/** useDebounced returns value after it stopped changing for ms. */
export function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export type AsyncState<T> = { loading: boolean; error: unknown; data: T | undefined; reload: () => void };

/** useAsync runs load when deps change and keeps the latest answer only. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ loading: boolean; error: unknown; data: T | undefined }>({ loading: true, error: null, data: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ loading: false, error: null, data }),
      (error) => live && setState({ loading: false, error, data: undefined }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Copy is a button that copies text and says so. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 2000);
  };
  return (
    <Button appearance="primary" onClick={copy} aria-live="polite">
      {done ? 'Copied' : label}
    </Button>
  );
}
