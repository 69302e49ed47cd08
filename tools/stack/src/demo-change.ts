import { type Demo, getJson, post } from './demo-kit.js';
import type { RecordEvent } from './demo-sync.js';

/**
 * Changes made in QuickBooks reach a downstream consumer: each is a signed webhook (sent at once: the
 * simulator's batch is flushed), verified and published by webhook-ingest before its 200, which brings
 * sync-service's next delta forward; the record event is timed from the change to its arrival at this
 * consumer. Returns the customer ids, in order.
 */
export async function changeArrives(d: Demo, realmId: string, times = 3): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= times; i++) {
    const started = Date.now();
    const customer = await post<{ Id: string }>(`${d.sim}/_sim/companies/${realmId}/changes`, {
      op: 'create',
      entity: 'Customer',
      data: { DisplayName: `Demo customer ${i} ${started}` },
    });
    await post(`${d.sim}/_sim/webhooks/flush`, {});
    const isIt = (e: RecordEvent) =>
      e.type === 'RecordUpserted' && e.data.entity === 'Customer' && e.data.entityId === customer.Id;
    const seen = (await d.records.until((all) => all.some(isIt), `customer ${customer.Id}`, 30_000)).find(
      isIt,
    ) as RecordEvent;
    const latency = seen.receivedAt - started;
    d.figures.changeLatencyMs.push(latency);
    ids.push(customer.Id);
    d.step(
      `customer ${customer.Id} created in QuickBooks reached a downstream consumer as RecordUpserted ` +
        `(op ${seen.data.op}) on qbo.records.v1 in ${latency} ms`,
    );
  }
  const deliveries = await getJson<{ status?: number; attempts?: { status?: number }[] }[]>(
    `${d.sim}/_sim/webhooks/deliveries`,
    undefined,
    'read the webhook deliveries',
  );
  const answered = deliveries.map((x) => x.status ?? x.attempts?.at(-1)?.status);
  if (answered.some((s) => s !== 200)) throw new Error(`a webhook was answered ${answered.join(', ')}`);
  d.step(`every webhook (${deliveries.length}) was verified and answered 200 after the Kafka ack`);
  return ids;
}
