// Tempo API areas a credential can be granted, in the order Tempo lists them
// (mirrors app/scope).

export interface Area {
  key: string;
  label: string;
  covers: string;
}

export const AREAS: Area[] = [
  { key: 'worklogs', label: 'Worklogs', covers: 'worklogs, work attributes' },
  { key: 'teams', label: 'Teams', covers: 'teams, memberships, team links, roles' },
  { key: 'schemes', label: 'Schemes', covers: 'workload, holiday schemes, user schedule' },
  { key: 'plans', label: 'Plans', covers: 'plans, programs' },
  { key: 'periods', label: 'Periods', covers: 'periods' },
  { key: 'approvals', label: 'Approvals', covers: 'timesheet approvals' },
  { key: 'accounts', label: 'Accounts', covers: 'accounts, categories, customers, links' },
  { key: 'financials', label: 'Financial Manager', covers: 'projects, rates' },
];

export type Level = 'none' | 'view' | 'manage';

/** scopeLabel renders "worklogs:view" as "Worklogs (view)". */
export function scopeLabel(s: string): string {
  if (s === 'full') return 'Full access';
  const [area, level] = s.split(':');
  const a = AREAS.find((x) => x.key === area);
  return `${a?.label ?? area}${level ? ` (${level})` : ''}`;
}

function areaIndex(scope: string): number {
  const i = AREAS.findIndex((a) => a.key === scope.split(':')[0]);
  return i < 0 ? AREAS.length : i;
}

/** scopeSummary is a short text for a scope list: "Full access" or "Worklogs (view), +2". */
export function scopeSummary(access: string | undefined, scopes: string[] | undefined): string {
  if (access === 'full' || (scopes?.length === 1 && scopes[0] === 'full')) return 'Full access';
  if (!scopes?.length) return access === 'custom' ? 'No scopes' : '';
  const sorted = [...scopes].sort((a, b) => areaIndex(a) - areaIndex(b));
  const first = sorted.slice(0, 2).map(scopeLabel).join(', ');
  return sorted.length > 2 ? `${first} +${sorted.length - 2}` : first;
}
