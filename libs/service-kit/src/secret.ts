import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A configuration secret. It prints as `[redacted]` through every path that turns a value into text
 * (template strings, JSON, util.inspect, pino), so passing a config object to a logger cannot leak it.
 * Call `reveal()` only where the plain value is handed to the library that needs it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
