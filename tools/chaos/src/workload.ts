import { createEventProducer, createJsonSerde, type EventProducer } from '@qbo/event-bus';
import { type AnyEnvelope, createEventFactory, UpsertRecord } from '@qbo/events';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { connect, post } from './http.js';
import type { Random } from './prng.js';
import type { ChaosStack } from './stack.js';

export interface Org {
  orgId: string;
  realmId: string;
  connectionId?: string;
}

export interface Push {
  command: AnyEnvelope;
  orgId: string;
  realmId: string;
  displayName: string;
  /** The broker acknowledged it at least once. */
  acked: boolean;
}

export interface WorkloadTally {
  connects: number;
  connectFailures: number;
  changes: number;
  changeFailures: number;
  pushes: number;
  publishRetries: number;
  tokenExpiries: number;
}

/**
 * The steady load while things break: orgs connecting companies, changes made "in QuickBooks" (each a webhook),
 * write-back commands (one new customer each, its name unique) and access tokens ended early at Intuit so the
 * services refresh. Each action that fails under a fault is counted and tried again later, as a client would.
 */
export class Workload {
  readonly orgs: Org[];
  readonly pushes: Push[] = [];
  readonly tally: WorkloadTally = {
    connects: 0,
    connectFailures: 0,
    changes: 0,
    changeFailures: 0,
    pushes: 0,
    publishRetries: 0,
    tokenExpiries: 0,
  };
  readonly #producer: EventProducer;
  readonly #created = new Map<string, string[]>();
  readonly #commands = createEventFactory({ source: 'chaos-client' });
  #stopped = false;

  constructor(
    private readonly stack: ChaosStack,
    private readonly random: Random,
    private readonly seed: number,
  ) {
    this.orgs = stack.realmIds.map((realmId, i) => ({ orgId: `chaos-${seed}-org-${i + 1}`, realmId }));
    const kafka = new Kafka({
      clientId: 'chaos-client',
      brokers: [stack.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    this.#producer = createEventProducer({
      kafka,
      serde: createJsonSerde(),
      log: pino({ level: 'silent' }),
    });
  }

  /** Connects the first `initial` orgs (retrying through nothing: no fault runs yet). */
  async start(initial: number): Promise<void> {
    await this.#producer.connect();
    for (const org of this.orgs.slice(0, initial)) await this.#connect(org);
  }

  /** Runs until `stop()`: one action every 150–600 ms. */
  async run(): Promise<void> {
    let n = 0;
    while (!this.#stopped) {
      n += 1;
      await this.#retryUnacked();
      const pending = this.orgs.find((o) => !o.connectionId);
      const roll = this.random.next();
      if (pending && (n % 40 === 0 || roll < 0.02)) await this.#connect(pending);
      else if (roll < 0.45) await this.#change();
      else if (roll < 0.8) await this.#push();
      else if (roll < 0.85) await this.#expireTokens();
      await new Promise((resolve) => setTimeout(resolve, this.random.int(150, 600)));
    }
  }

  stop(): void {
    this.#stopped = true;
  }

  /** Every command acknowledged by the broker (the end of the run sends again what was not). */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pushes.some((p) => !p.acked)) {
      if (Date.now() > deadline) throw new Error('push commands not acknowledged by the broker');
      await this.#retryUnacked();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await this.#producer.disconnect();
  }

  get connected(): Org[] {
    return this.orgs.filter((o) => o.connectionId);
  }

  async #connect(org: Org): Promise<void> {
    try {
      org.connectionId = await connect(this.stack, org.orgId, org.realmId);
      this.tally.connects += 1;
    } catch {
      this.tally.connectFailures += 1;
    }
  }

  async #change(): Promise<void> {
    const org = this.#pickConnected();
    if (!org) return;
    const created = this.#created.get(org.realmId) ?? [];
    const entity = this.random.next() < 0.7 ? 'Customer' : 'Vendor';
    const mine = created.filter((c) => c.startsWith(`${entity}/`));
    const update = mine.length > 0 && this.random.next() < 0.4;
    const n = this.tally.changes + this.tally.changeFailures + 1;
    try {
      if (update) {
        const id = this.random.pick(mine).split('/')[1];
        await post(`${this.stack.simulator}/_sim/companies/${org.realmId}/changes`, {
          op: 'update',
          entity,
          id,
          data: { Notes: `chaos ${this.seed} change ${n}` },
        });
      } else {
        const record = await post<{ Id: string }>(
          `${this.stack.simulator}/_sim/companies/${org.realmId}/changes`,
          { op: 'create', entity, data: { DisplayName: `Chaos ${this.seed} ${entity} ${n}` } },
        );
        created.push(`${entity}/${record.Id}`);
        this.#created.set(org.realmId, created);
      }
      this.tally.changes += 1;
    } catch {
      this.tally.changeFailures += 1;
    }
  }

  async #push(): Promise<void> {
    const org = this.#pickConnected();
    if (!org?.connectionId) return;
    // A command names a connection sync-service must know: connections and commands travel on different
    // topics, so one sent the moment the connect returns can arrive first and is refused (connection_not_found),
    // as the API documents. A client waits until sync-service shows the connection; so does this one.
    if (!(await this.#syncKnows(org.connectionId))) return;
    const displayName = `Chaos ${this.seed} Pushed ${this.pushes.length + 1}`;
    const command = this.#commands(UpsertRecord, {
      orgId: org.orgId,
      data: {
        connectionId: org.connectionId,
        entity: 'Customer',
        sparse: true,
        payload: { DisplayName: displayName },
      },
    }) as AnyEnvelope;
    const push: Push = { command, orgId: org.orgId, realmId: org.realmId, displayName, acked: false };
    this.pushes.push(push);
    this.tally.pushes += 1;
    await this.#send(push);
  }

  async #send(push: Push): Promise<void> {
    try {
      await this.#producer.publish(push.command as never);
      push.acked = true;
    } catch {
      this.tally.publishRetries += 1;
    }
  }

  /** A command whose send failed is sent again, with the same id (its idempotency key). */
  async #retryUnacked(): Promise<void> {
    for (const push of this.pushes.filter((p) => !p.acked)) await this.#send(push);
  }

  async #expireTokens(): Promise<void> {
    const org = this.#pickConnected();
    if (!org) return;
    await post(`${this.stack.simulator}/_sim/tokens/expire`, { realmId: org.realmId }).catch(() => undefined);
    this.tally.tokenExpiries += 1;
  }

  readonly #known = new Set<string>();
  async #syncKnows(connectionId: string): Promise<boolean> {
    if (this.#known.has(connectionId)) return true;
    const rows = await this.stack.db
      .query('select 1 from sync.sync_target where connection_id = $1', [connectionId])
      .catch(() => []);
    if (rows.length > 0) this.#known.add(connectionId);
    return rows.length > 0;
  }

  #pickConnected(): Org | undefined {
    const list = this.connected;
    return list.length > 0 ? this.random.pick(list) : undefined;
  }
}
