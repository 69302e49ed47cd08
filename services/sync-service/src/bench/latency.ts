// Latency: a change at Intuit (the simulator) to the `RecordUpserted` a plain downstream consumer sees, at a steady
// rate, through the real webhook-ingest, Kafka, the sync-service process (its debounce and poll as shipped), its
// outbox relay and the broker. The consumer is a bare kafkajs consumer that reads the feed's headers only.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simulatorRecords } from '../testing/compare.js';
import { startSimulator } from '../testing/simulator-control.js';
import { newOrg, startSyncStack, topics } from '../testing/sync-stack.js';
import { startWebhookIngest } from '../testing/webhook-ingest.js';
import { table } from './report.js';

export interface LatencyOptions {
  /** Changes per second. */
  rate: number;
  /** How long the changes go on. */
  seconds: number;
  print?: (line: string) => void;
}

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencyReport {
  rate: number;
  seconds: number;
  changes: number;
  /** Changes whose event never came (an invariant: must be 0). */
  lost: number;
  /** From the change at the simulator (it batches webhooks over 1 s, as Intuit batches them) to the receipt. */
  fromChange: Percentiles;
  /** From the simulator's webhook delivery carrying the change to the consumer's receipt of its event. */
  fromWebhook: Percentiles;
  /** Changes whose event came before their own delivery: a run an earlier webhook started read them. */
  beforeDelivery: number;
}

/** The settings that decide latency, as the service ships them (the test stack's are shorter). */
const SHIPPED = { SYNC_WEBHOOK_DEBOUNCE_MS: '1000', SYNC_POLL_MS: '500', SYNC_CURSOR_MARGIN_MS: '60000' };

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

interface Pending {
  changedAt: number;
  deliveredAt?: number;
  receivedAt?: number;
}

/** Headers of one hop, which are not forwarded (fetch refuses some of them). */
const HOP_BY_HOP = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

const body = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/**
 * A pass-through in front of webhook-ingest that notes when each delivery left the simulator (the time it
 * arrives here, on the same machine) and which records it names.
 */
async function deliveryClock(target: string, seen: (subject: string, at: number) => void) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    void body(req).then(async (raw) => {
      try {
        for (const e of JSON.parse(raw.toString()) as { type?: string; intuitentityid?: string }[]) {
          const entity = /^qbo\.([a-z]+)\./.exec(e.type ?? '')?.[1];
          if (entity && e.intuitentityid) seen(`${entity}/${e.intuitentityid}`, at);
        }
      } catch {
        // Not a CloudEvents array: forwarded as it is.
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !HOP_BY_HOP.has(k)),
      ) as Record<string, string>;
      try {
        const answer = await fetch(target, { method: req.method ?? 'POST', headers, body: raw });
        res.writeHead(answer.status).end(await answer.text());
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

export async function runLatency(opts: LatencyOptions): Promise<LatencyReport> {
  const print = opts.print ?? (() => {});
  const sim = await startSimulator(['--seed', '21', '--companies', '1', '--records', '1200']);
  const stack = await startSyncStack(sim);
  const pending = new Map<string, Pending>();
  const byLowerSubject = (subject: string) => subject.toLowerCase();
  const ingest = await startWebhookIngest(stack.bus.prefix);
  const clock = await deliveryClock(ingest.url, (subject, at) => {
    const p = pending.get(subject);
    if (p && p.deliveredAt === undefined) p.deliveredAt = at;
  });
  const consumer = stack.bus.kafka.consumer({ groupId: `latency-${newOrg()}` });
  try {
    await stack.startReplica(SHIPPED);
    await sim.addWebhookTarget({
      url: clock.url,
      format: 'cloudevents',
      verifierToken: ingest.verifierToken,
    });
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    await stack.connect(realmId, orgId);
    await ingest.linked(realmId);
    await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 600_000);
    await stack.idle(realmId);
    await stack.drained();

    await consumer.connect();
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await consumer.subscribe({ topic: stack.bus.names.physical(topics.records), fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = (name: string) => message.headers?.[name]?.toString();
        if (h('ce_type') !== 'qbo-platform.RecordUpserted.v1') return;
        const p = pending.get(byLowerSubject(h('ce_subject') ?? ''));
        if (p && p.receivedAt === undefined) p.receivedAt = Date.now();
      },
    });
    await joined;
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const ids = [...(await simulatorRecords(sim, realmId, 'Customer')).values()]
      .filter((c) => c.Active !== false)
      .map((c) => String(c.Id));
    const total = Math.round(opts.rate * opts.seconds);
    print(`latency: ${total} changes at ${opts.rate}/s over ${opts.seconds} s`);
    const started = Date.now();
    const all: Pending[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / opts.rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      // A record whose previous change is still on its way is not changed again, so each event answers one change.
      const id = ids.find((x) => {
        const p = pending.get(`customer/${x}`);
        return p === undefined || p.receivedAt !== undefined;
      });
      if (id === undefined) throw new Error('every customer has a change on its way');
      ids.push(...ids.splice(ids.indexOf(id), 1));
      const change: Pending = { changedAt: Date.now() };
      pending.set(`customer/${id}`, change);
      all.push(change);
      await sim.change(realmId, { op: 'update', entity: 'Customer', id, data: { Notes: `latency ${i}` } });
    }
    const deadline = Date.now() + 30_000;
    while (all.some((p) => p.receivedAt === undefined) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const got = all.filter((p) => p.receivedAt !== undefined);
    return {
      rate: opts.rate,
      seconds: opts.seconds,
      changes: all.length,
      lost: all.length - got.length,
      fromWebhook: percentiles(
        got
          .filter((p) => p.deliveredAt !== undefined)
          .map((p) => (p.receivedAt as number) - (p.deliveredAt as number)),
      ),
      fromChange: percentiles(got.map((p) => (p.receivedAt as number) - p.changedAt)),
      beforeDelivery: got.filter(
        (p) => p.deliveredAt === undefined || (p.receivedAt as number) < p.deliveredAt,
      ).length,
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    clock.close();
    await ingest.stop();
    await stack.stop();
    await sim.stop();
  }
}

const ms = (v: number) => (Number.isNaN(v) ? '–' : `${(v / 1000).toFixed(2)} s`);

export function formatLatency(r: LatencyReport): string {
  const row = (from: string, p: Percentiles, target: string) => [
    from,
    String(p.n),
    ms(p.p50),
    ms(p.p90),
    ms(p.p99),
    ms(p.max),
    target,
  ];
  return [
    `Latency: ${r.changes} customer updates at ${r.rate}/s over ${r.seconds} s, ${r.lost} without an event; ` +
      `${r.beforeDelivery} reached the consumer before their own webhook (a run an earlier one started read them)`,
    table(
      ['from', 'changes', 'p50', 'p90', 'p99', 'max', 'target'],
      [
        row('change at the simulator → consumer', r.fromChange, 'p50 < 1.5 s, p99 < 3 s'),
        row('webhook delivery → consumer', r.fromWebhook, '(negative: read before its delivery)'),
      ],
    ),
  ].join('\n');
}
