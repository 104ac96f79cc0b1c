import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
import { detectHost, type Detected } from './host';
import { setHost } from './api';
import { Banner, Loading } from './ui';
import { AdminApp } from './admin/AdminApp';
import { MeApp } from './me/MeApp';
import { ConsentApp } from './ConsentApp';

function Root() {
  const [d, setD] = useState<Detected | null>(null);
  useEffect(() => {
    detectHost().then(
      (r) => {
        if (r.ok) setHost(r.host);
        document.documentElement.dataset.host = r.ok ? r.host.kind : 'none';
        setD(r);
      },
      (e) => setD({ ok: false, view: 'admin', reason: String(e) }),
    );
  }, []);
  if (!d) return <Loading label="Connecting" />;
  if (!d.ok) {
    return (
      <main className="page">
        <h1>keyward: Tempo API access</h1>
        <Banner appearance="info" title="Open this page from Jira">
          {d.reason}
        </Banner>
      </main>
    );
  }
  switch (d.host.view) {
    case 'me':
      return <MeApp />;
    case 'consent':
      return <ConsentApp />;
    default:
      return <AdminApp />;
  }
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
