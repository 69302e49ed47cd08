import { createTopicNames } from '@qbo/event-bus';
import { type AnyEnvelope, topics } from '@qbo/events';
import { readToEnd } from '@qbo/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { at, get } from './http.js';
import type { ChaosStack } from './stack.js';

/** What the run reads at the sources of truth: the topics, the simulator, the services' own answers. */

export const SYNCED_ENTITIES = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'] as const;

export type Topic = 'records' | 'webhooks' | 'syncRuns';

/** Every event a topic of the run's broker holds, decoded (the platform's JSON serde). */
export async function readTopic(stack: ChaosStack, topic: Topic): Promise<AnyEnvelope[]> {
  const kafka = new Kafka({ clientId: 'chaos-reader', brokers: [stack.brokers], logLevel: logLevel.NOTHING });
  const name = createTopicNames().physical(topics[topic]);
  return (await readToEnd(name, { kafka, timeoutMs: 120_000 }))
    .map((m) => m.message.value)
    .filter((v): v is Buffer => v !== null && v.length > 0)
    .map((v) => JSON.parse(v.toString()) as AnyEnvelope);
}

export interface Counters {
  [realmId: string]: {
    [endpoint: string]: {
      calls: number;
      statuses: Record<string, number>;
      throttled: Record<string, number>;
    };
  };
}

export const simCounters = (stack: ChaosStack) => get<Counters>(`${stack.simulator}/_sim/counters`);

export interface Delivery {
  body: string;
  attempts: { status?: number }[];
  delivered: boolean;
}

export const deliveries = (stack: ChaosStack) =>
  get<Delivery[]>(`${stack.simulator}/_sim/webhooks/deliveries`);

/** The CloudEvents ids a delivery carried. */
export function eventIds(delivery: Delivery): string[] {
  const body = JSON.parse(delivery.body) as { id: string }[] | { id: string };
  return (Array.isArray(body) ? body : [body]).map((e) => e.id);
}

/** Every record of an entity at the simulator, read over the Accounting API with the connection's own token. */
export async function simulatorRecords(
  stack: ChaosStack,
  realmId: string,
  accessToken: string,
  entity: string,
): Promise<Map<string, Record<string, unknown>>> {
  const nameList = !['Invoice', 'Payment'].includes(entity);
  const out = new Map<string, Record<string, unknown>>();
  for (let start = 1; ; start += 1000) {
    const select = `SELECT * FROM ${entity}${nameList ? ' WHERE Active IN (true, false)' : ''} ORDERBY Id STARTPOSITION ${start} MAXRESULTS 1000`;
    let res: Response | undefined;
    for (let attempt = 0; attempt < 30; attempt++) {
      res = await fetch(
        `${stack.simulator}/v3/company/${realmId}/query?query=${encodeURIComponent(select)}&minorversion=75`,
        { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } },
      );
      if (res.status !== 429) break;
      await res.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    if (!res?.ok) throw new Error(`simulator query of ${entity} in ${realmId}: ${res?.status}`);
    const body = (await res.json()) as { QueryResponse: Record<string, Record<string, unknown>[]> };
    const rows = body.QueryResponse[entity] ?? [];
    for (const r of rows) out.set(String(r.Id), r);
    if (rows.length < 1000) return out;
  }
}

interface AccessToken {
  accessToken: string;
  credentialVersion: number;
}

/**
 * Whether the connection's refresh token still works at Intuit: its access tokens are ended at the simulator,
 * the one token-service holds is refused (401), and token-service's refresh of exactly that token must give
 * one the Accounting API accepts. Resolves with the working token, or throws saying what failed.
 */
export async function proveRefresh(
  stack: ChaosStack,
  realmId: string,
  connectionId: string,
): Promise<string> {
  const tokens = at(stack.ports['token-service']);
  const bearer = `Bearer ${stack.secrets.syncServiceCredential}`;
  await fetch(`${stack.simulator}/_sim/tokens/expire`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ realmId }),
  });
  const held = await get<AccessToken>(`${tokens}/internal/connections/${connectionId}/access-token`, bearer);
  const info = (token: string) =>
    fetch(`${stack.simulator}/v3/company/${realmId}/companyinfo/${realmId}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  const stale = await info(held.accessToken);
  await stale.body?.cancel();
  if (stale.status !== 401) throw new Error(`the ended token was answered ${stale.status}`);
  for (let attempt = 0; attempt < 20; attempt++) {
    const res = await fetch(`${tokens}/internal/connections/${connectionId}/access-token/refresh`, {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ rejectedAccessToken: held.accessToken }),
    });
    if (res.status === 429 || res.status >= 500) {
      const wait = Number(res.headers.get('retry-after') ?? '1');
      await res.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    if (res.status !== 200) throw new Error(`refresh answered ${res.status} ${await res.text()}`);
    const fresh = (await res.json()) as AccessToken;
    const works = await info(fresh.accessToken);
    await works.body?.cancel();
    if (works.status !== 200) throw new Error(`the refreshed token was answered ${works.status}`);
    return fresh.accessToken;
  }
  throw new Error('token-service kept answering 429/5xx to the refresh');
}
