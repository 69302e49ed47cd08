import { createHash } from 'node:crypto';

/**
 * A record event's `contentHash`: sha-256 of its `after` as canonical JSON (keys sorted at every depth,
 * undefined fields left out), so the same content hashes the same whatever order Intuit wrote it in, and a
 * consumer can recompute it. `SyncToken` and `MetaData` take part: a new version is a change.
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
