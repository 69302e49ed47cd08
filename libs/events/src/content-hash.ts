import { createHash } from 'node:crypto';

/**
 * A record event's `contentHash`: sha-256 of a canonical JSON form (keys sorted at every depth), so the same content hashes the same whatever
 * order Intuit serialised it in; a consumer can recompute it from the event's `payload`. `SyncToken` and `MetaData` take part: a new version is a change.
 */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
