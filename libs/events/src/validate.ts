import type { z } from 'zod';
import type { EventDefinition, EventOf } from './define-event.js';

export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * An event that does not match its schema. The message names the event and every failing field with the
 * rule it broke, never the offending value (a value in the wrong field may be a secret).
 */
export class EventSchemaError extends Error {
  readonly code = 'event_schema_violation';
  readonly retryable = false;
  readonly eventType: string;
  readonly issues: readonly SchemaIssue[];

  constructor(eventType: string, issues: readonly SchemaIssue[]) {
    super(
      `${eventType} does not match its schema: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
    this.name = 'EventSchemaError';
    this.eventType = eventType;
    this.issues = issues;
  }
}

const pathOf = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '(event)' : path.map(String).join('.');

const fromZod = (error: z.ZodError): SchemaIssue[] =>
  error.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message }));

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Keys present in the input but dropped by the schema: zod strips them silently, and a producer that sets a
 * field the contract lacks (a typo, or a secret that must not travel) must hear about it.
 */
function strippedKeys(input: unknown, output: unknown, path: string[], found: SchemaIssue[]): void {
  if (Array.isArray(input)) {
    if (!Array.isArray(output)) return;
    for (let i = 0; i < input.length; i++) {
      path.push(String(i));
      strippedKeys(input[i], output[i], path, found);
      path.pop();
    }
    return;
  }
  if (!isPlainObject(input) || !isPlainObject(output)) return;
  for (const key in input) {
    if (key in output) {
      path.push(key);
      strippedKeys(input[key], output[key], path, found);
      path.pop();
    } else if (input[key] !== undefined) {
      found.push({ path: pathOf([...path, key]), message: 'is not part of the schema' });
    }
  }
}

/**
 * Events the factory built: validated, and deep-frozen so they stay valid. Publishing one again (outbox,
 * producer) skips a second validation.
 */
const known = new WeakSet<object>();

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  for (const v of Object.values(value)) deepFreeze(v);
  Object.freeze(value);
}

/** Marks an event as validated; it is frozen, so it cannot stop being valid. */
export function markValidated<T extends object>(event: T): T {
  deepFreeze(event);
  known.add(event);
  return event;
}

/** Validates an event about to be published: every field per the schema, and no field the schema lacks. */
export function validateForPublish<D extends EventDefinition>(def: D, candidate: unknown): EventOf<D> {
  if (typeof candidate === 'object' && candidate !== null && known.has(candidate)) {
    const { type, version } = candidate as { type?: unknown; version?: unknown };
    if (type === def.type && version === def.version) return candidate as EventOf<D>;
  }
  const label = `${def.type} v${def.version}`;
  const result = def.schema.safeParse(candidate);
  if (!result.success) throw new EventSchemaError(label, fromZod(result.error));
  const extra: SchemaIssue[] = [];
  strippedKeys(candidate, result.data, [], extra);
  if (extra.length > 0) throw new EventSchemaError(label, extra);
  return result.data as EventOf<D>;
}

/**
 * Validates a received event. Unknown fields are dropped, not refused: a newer producer may add optional
 * fields (an additive change within a version) before every consumer knows them.
 */
export function validateReceived<D extends EventDefinition>(def: D, candidate: unknown): EventOf<D> {
  const result = def.schema.safeParse(candidate);
  if (!result.success) throw new EventSchemaError(`${def.type} v${def.version}`, fromZod(result.error));
  return result.data as EventOf<D>;
}
