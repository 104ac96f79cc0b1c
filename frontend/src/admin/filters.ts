// The inventory's filter state and its translation to the admin API's query.
import type { Query } from '../api';
import { dayEnd, dayStart } from '../format';

export interface Filters {
  q: string;
  kind: string;
  status: string;
  owner: string;
  ownerName: string; // display only
  scope: string;
  staleDays: string;
  ownerInactive: boolean;
  createdFrom: string;
  createdTo: string;
  lastUsedFrom: string;
  lastUsedTo: string;
}

export const emptyFilters: Filters = {
  q: '',
  kind: '',
  status: '',
  owner: '',
  ownerName: '',
  scope: '',
  staleDays: '',
  ownerInactive: false,
  createdFrom: '',
  createdTo: '',
  lastUsedFrom: '',
  lastUsedTo: '',
};

/** toQuery renders filters as list query keys (what GET /credentials and the exports take). */
export function toQuery(f: Filters): Query {
  return {
    q: f.q.trim(),
    kind: f.kind,
    status: f.status,
    owner: f.owner.trim(),
    scope: f.scope,
    staleDays: f.staleDays ? Number(f.staleDays) : '',
    ownerInactive: f.ownerInactive ? 'true' : '',
    createdFrom: dayStart(f.createdFrom),
    createdTo: dayEnd(f.createdTo),
    lastUsedFrom: dayStart(f.lastUsedFrom),
    lastUsedTo: dayEnd(f.lastUsedTo),
  };
}

/** toFilterBody is the same filter as a JSON object for the revoke preview. */
export function toFilterBody(f: Filters): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(toQuery(f))) {
    if (v === '' || v === undefined || v === null || v === false) continue;
    out[k] = k === 'staleDays' ? Number(v) : k === 'ownerInactive' ? true : (v as string | number);
  }
  return out;
}

export function activeFilterCount(f: Filters): number {
  return Object.entries(toFilterBody(f)).filter(([k]) => k !== 'q').length;
}
