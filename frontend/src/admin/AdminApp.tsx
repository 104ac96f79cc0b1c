import { useState } from 'react';
import { Tabs } from '../ui';
import { currentHost } from '../api';
import { Inventory } from './Inventory';
import { Users } from './Users';
import { AccessLog } from './AccessLog';
import { Offboarding } from './Offboarding';
import { Jobs } from './Jobs';
import { OAuthApps } from './OAuthApps';

const TABS = [
  { key: 'credentials', label: 'Credentials' },
  { key: 'users', label: 'People' },
  { key: 'access', label: 'Access log' },
  { key: 'offboarding', label: 'Offboarding settings' },
  { key: 'jobs', label: 'Jobs & reports' },
  { key: 'oauth', label: 'OAuth apps' },
];

function initialTab(): string {
  const t = new URLSearchParams(window.location.search).get('tab');
  return TABS.some((x) => x.key === t) ? t! : 'credentials';
}

/** AdminApp is the Jira administrators' console. */
export function AdminApp() {
  const [tab, setTab] = useState(initialTab);
  const [owner, setOwner] = useState<{ accountId: string; name: string } | null>(null);
  const change = (k: string) => {
    setTab(k);
    if (currentHost().kind !== 'forge') {
      const u = new URL(window.location.href);
      u.searchParams.set('tab', k);
      history.replaceState(history.state, '', u.pathname + u.search + u.hash);
    }
  };
  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1>Tempo API access</h1>
          <p>Every Tempo API key and OAuth grant in this site: who holds it, what it can do, when it was last used.</p>
        </div>
        {currentHost().kind === 'dev' && <span className="host-badge">dev mode</span>}
      </div>
      <Tabs tabs={TABS} current={tab} onChange={change} label="Admin sections" />
      {tab === 'credentials' && <Inventory initialOwner={owner} onOwnerShown={() => setOwner(null)} />}
      {tab === 'users' && (
        <Users
          onShowCredentials={(u) => {
            setOwner(u);
            change('credentials');
          }}
        />
      )}
      {tab === 'access' && <AccessLog />}
      {tab === 'offboarding' && <Offboarding />}
      {tab === 'jobs' && <Jobs />}
      {tab === 'oauth' && <OAuthApps />}
    </main>
  );
}
