import type { Deployable } from '@qbo/stack/services';
import { post } from './http.js';
import type { Random } from './prng.js';
import type { ChaosStack } from './stack.js';

export const FAULT_KINDS = [
  'kill token-service',
  'kill auth-service',
  'kill sync-service',
  'kill webhook-ingest',
  'restart broker',
  'cut postgres',
  'cut redis',
  'intuit 429 storm',
  'intuit 5xx storm',
  'intuit latency',
  'jump intuit clock',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const ENDPOINTS = [undefined, 'query', 'cdc', 'batch', 'write', 'token'] as const;

/**
 * Breaks one thing at a time, at seeded random moments: the kinds are dealt from a shuffled deck (every kind
 * once per round), each after a pause of 1–4 s, each lasting a seeded while. The seed fixes the order, the
 * pauses and every parameter, so a failing run can be replayed.
 */
export class FaultDriver {
  readonly done = new Map<FaultKind, number>();
  readonly #deck: FaultKind[] = [];
  #stopped = false;
  #current: Promise<void> = Promise.resolve();

  constructor(
    private readonly stack: ChaosStack,
    private readonly random: Random,
    private readonly log: (line: string) => void,
    private readonly started: number,
  ) {}

  /** Until `until`, and at least one whole round of the deck (every kind once), however short the run. */
  async run(until: number): Promise<void> {
    let dealt = 0;
    while (!this.#stopped) {
      await new Promise((resolve) => setTimeout(resolve, this.random.int(1_000, 4_000)));
      if (this.#stopped || (Date.now() >= until && dealt >= FAULT_KINDS.length)) break;
      dealt += 1;
      if (this.#deck.length === 0) this.#deck.push(...this.random.shuffle(FAULT_KINDS));
      const kind = this.#deck.shift() as FaultKind;
      this.#current = this.#inject(kind);
      await this.#current;
      this.done.set(kind, (this.done.get(kind) ?? 0) + 1);
    }
  }

  /** No new fault; resolves once the one in progress has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#current;
  }

  async #inject(kind: FaultKind): Promise<void> {
    const sim = this.stack.simulator;
    const t = ((Date.now() - this.started) / 1000).toFixed(1);
    const say = (what: string) => this.log(`[chaos] t=${t}s ${what}`);
    const hold = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    switch (kind) {
      case 'kill token-service':
      case 'kill auth-service':
      case 'kill sync-service':
      case 'kill webhook-ingest': {
        const name = kind.slice('kill '.length) as Deployable;
        const down = this.random.int(0, 3_000);
        say(`kill -9 ${name}; started again after ${down} ms`);
        await this.stack.killService(name, down);
        return;
      }
      case 'restart broker': {
        say('broker stopped and started again');
        await this.stack.restartBroker();
        return;
      }
      case 'cut postgres':
      case 'cut redis': {
        const proxy = kind === 'cut postgres' ? this.stack.postgres : this.stack.redis;
        const ms = this.random.int(2_000, 8_000);
        say(`${kind.slice(4)} cut (open connections reset, new ones refused) for ${ms} ms`);
        proxy.cut();
        await hold(ms);
        proxy.restore();
        return;
      }
      case 'intuit 429 storm':
      case 'intuit 5xx storm':
      case 'intuit latency': {
        const endpoint = this.random.pick(ENDPOINTS);
        const ms = this.random.int(2_000, 8_000);
        const status = this.random.pick(['500', '502', '503', '504'] as const);
        const rule =
          kind === 'intuit 429 storm'
            ? { kind: '429' }
            : kind === 'intuit 5xx storm'
              ? { kind: status }
              : { kind: 'latency', latencyMs: this.random.int(300, 2_500) };
        say(`${kind} (${JSON.stringify(rule)}) on ${endpoint ?? 'every endpoint'} for ${ms} ms`);
        const { id } = await post<{ id: string }>(`${sim}/_sim/faults`, {
          ...rule,
          ...(endpoint ? { endpoint } : {}),
          times: 100_000,
        });
        await hold(ms);
        await fetch(`${sim}/_sim/faults/${id}`, { method: 'DELETE' });
        return;
      }
      case 'jump intuit clock': {
        const advanceMs = this.random.int(10, 360) * 60_000;
        say(`Intuit's clock jumps ${advanceMs / 60_000} min ahead`);
        await post(`${sim}/_sim/clock`, { advanceMs });
        return;
      }
    }
  }
}
