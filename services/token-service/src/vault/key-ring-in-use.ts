import { randomBytes } from 'node:crypto';
import { type Logger, type MikroORM, query } from '@qbo/service-kit';
import { type Config, keyRingOf } from '../config.js';
import { type KeyRing, parseKeyRing } from '../domain/key-ring.js';

/**
 * The configured key ring, checked against the data keys stored: which key sealed how many of them is
 * logged, and an id missing from the ring (those rows cannot be opened) is an error line. A retired id with no
 * rows left may be removed from the ring.
 */
export async function keyRingInUse(config: Config, orm: MikroORM, log: Logger): Promise<KeyRing> {
  let ring = keyRingOf(config);
  if (!ring) {
    // Only with TOKEN_ALLOW_EPHEMERAL_KEY=true, never in production (config refuses both otherwise): tokens
    // stored now become unreadable at the next start, acceptable for a throwaway local run and nothing else.
    log.warn(
      'TOKEN_KEYS is not set: using an EPHEMERAL key; every credential stored by this process is lost when it stops',
    );
    ring = parseKeyRing(`ephemeral:${randomBytes(32).toString('base64')}`, 'ephemeral');
  }
  const byKid = await query<{ kid: string; n: string }>(
    orm.em,
    "select split_part(sealed_key, '.', 2) as kid, count(*) as n from data_key group by 1",
  );
  const known = ring;
  const missing = byKid.filter((r) => !known.get(r.kid)).map((r) => r.kid);
  if (missing.length > 0)
    log.error({ missing }, 'data keys sealed by key ids missing from TOKEN_KEYS cannot be opened');
  log.info({ dataKeysByKid: Object.fromEntries(byKid.map((r) => [r.kid, Number(r.n)])) }, 'vault keys');
  return ring;
}
