import { isQboError, type QboError, type QboObject } from '@qbo/qbo-client';

/**
 * A record Intuit cannot return: every page, CDC window or Id list holding it fails with 4002
 * (QueryProcessingError) or 10000 (SystemFault), while COUNT(*), which reads no record, still answers
 * (sync-research §1.10). The sync narrows such a failure down to the one record and reads around it.
 */
export interface PoisonedRecord {
  entity: string;
  /** Intuit's fault code for it. */
  code: string;
  /** Its Id, when a read could name it (an Id list); otherwise it is known by where it sits. */
  entityId?: string;
  /** The LastUpdatedTime range that holds it (inclusive start, exclusive end), when it was found by time. */
  from?: number;
  to?: number;
  /** Its 1-based position among that range's records ordered by Id. */
  position?: number;
  /** The Id just before it in that order, when there is one: where to look for it. */
  afterId?: string;
  /** The Intuit call that failed on it alone (`qbo_api_log.call_id`). */
  callId?: string;
}

export const POISON_CODES: readonly string[] = ['4002', '10000'];

/** Whether a failed call is the kind a single unreadable record causes. */
export function isPoisonFault(err: unknown): err is QboError {
  return isQboError(err) && POISON_CODES.includes(err.code);
}

export interface Slice {
  rows: QboObject[];
  /** Positions (1-based) that failed alone, with the fault's code and the call that failed. */
  poisoned: { position: number; code: string; callId?: string }[];
  /** Positions the slice accounted for: rows plus poisoned ones; fewer than asked means the end. */
  filled: number;
}

/**
 * Reads `size` rows from `position` of an Id-ordered set; a failing read is halved until the one position
 * that fails alone is found, and the rest is read around it. One poisoned record in a page of n costs about
 * 2·log2(n) more calls.
 */
export async function readSlice(
  read: (position: number, size: number) => Promise<QboObject[]>,
  position: number,
  size: number,
): Promise<Slice> {
  try {
    const rows = await read(position, size);
    return { rows, poisoned: [], filled: rows.length };
  } catch (err) {
    if (!isPoisonFault(err)) throw err;
    if (size === 1) return { rows: [], poisoned: [{ position, code: err.code, ...callOf(err) }], filled: 1 };
    const half = Math.ceil(size / 2);
    const a = await readSlice(read, position, half);
    if (a.filled < half) return a;
    const b = await readSlice(read, position + half, size - half);
    return {
      rows: [...a.rows, ...b.rows],
      poisoned: [...a.poisoned, ...b.poisoned],
      filled: a.filled + b.filled,
    };
  }
}

/**
 * Splits a list of Ids until each failing read is one Id: returns what could be read and the Ids that
 * fail alone (these records exist, Intuit just cannot return them).
 */
export async function readIds(
  read: (ids: readonly string[]) => Promise<QboObject[]>,
  ids: readonly string[],
): Promise<{ rows: QboObject[]; poisoned: { entityId: string; code: string; callId?: string }[] }> {
  if (ids.length === 0) return { rows: [], poisoned: [] };
  try {
    return { rows: await read(ids), poisoned: [] };
  } catch (err) {
    if (!isPoisonFault(err)) throw err;
    if (ids.length === 1) {
      return { rows: [], poisoned: [{ entityId: ids[0] as string, code: err.code, ...callOf(err) }] };
    }
    const half = Math.ceil(ids.length / 2);
    const a = await readIds(read, ids.slice(0, half));
    const b = await readIds(read, ids.slice(half));
    return { rows: [...a.rows, ...b.rows], poisoned: [...a.poisoned, ...b.poisoned] };
  }
}

const callOf = (err: QboError): { callId?: string } =>
  err.callId === undefined ? {} : { callId: err.callId };
