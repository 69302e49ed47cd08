/**
 * Intuit's timestamps carry US-Pacific offsets and one-second granularity (docs/qbo-api-facts.md §4.1); the
 * sync compares instants only, never strings, so `01:30-07:00` and `01:10-08:00` order correctly across DST.
 */
const SECOND = 1_000;

/** The instant of an Intuit timestamp, in epoch ms; undefined when it is missing or unreadable. */
export function instantOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `MetaData.LastUpdatedTime` of a QuickBooks object, as epoch ms. */
export function lastUpdatedOf(object: Record<string, unknown>): number | undefined {
  const meta = object.MetaData;
  if (!meta || typeof meta !== 'object') return undefined;
  return instantOf((meta as Record<string, unknown>).LastUpdatedTime);
}

export const floorToSecond = (ms: number): number => Math.floor(ms / SECOND) * SECOND;

export const utc = (ms: number): string => new Date(ms).toISOString();
