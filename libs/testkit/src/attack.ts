import { it } from 'node:test';

/** The prefix that marks a test as an attack; the test command counts these apart from the rest. */
export const ATTACK_PREFIX = 'attack: ';

/**
 * One attack on a running service, as an outsider would make it: `fn` makes the attempt and asserts that it was
 * refused (and that nothing changed at the source of truth). A failing attack test is an attack the service
 * accepted; `npm test` prints how many were tried and how many were accepted.
 */
export function attack(name: string, fn: () => Promise<void>, options: { timeout?: number } = {}): void {
  it(`${ATTACK_PREFIX}${name}`, options, fn);
}
