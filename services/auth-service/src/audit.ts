import type { Outbox } from '@qbo/event-bus';
import { ConnectAttemptRejected, type EventFactory, type EventOfType, UNKNOWN_ORG } from '@qbo/events';
import type { Logger, MikroORM } from '@qbo/service-kit';
import { createAuditSampler } from './domain/audit-sampling.js';

export type RejectedData = EventOfType<'ConnectAttemptRejected'>['data'];
export type AuditInput = Omit<RejectedData, 'rejectedAt' | 'count' | 'firstRejectedAt'>;

interface Kind {
  orgId: string;
  stage: RejectedData['stage'];
  reason: RejectedData['reason'];
}

/**
 * The security audit trail of refused connect attempts, on `qbo.connections.audit.v1` through the outbox, no
 * secrets. Sampled: per stage, reason and org, the first `perWindow` refusals of a window are written (and
 * logged) one by one, the rest only counted, and `flush` (every window, and at shutdown) writes one summary
 * per kind with its count. Unauthenticated callers cannot turn refusals into a flood of events or log lines.
 */
export function createAudit({
  orm,
  outbox,
  events,
  log,
  perWindow,
  now = () => new Date(),
}: {
  orm: MikroORM;
  outbox: Outbox;
  events: EventFactory;
  log: Logger;
  perWindow: number;
  now?: () => Date;
}) {
  const sampler = createAuditSampler<Kind>({
    perWindow,
    keyOf: (k) => `${k.stage}:${k.reason}:${k.orgId}`,
  });

  const write = async (orgId: string, data: RejectedData): Promise<void> => {
    try {
      await orm.em.fork().transactional(async (em) => {
        await outbox.add(em, events(ConnectAttemptRejected, { orgId, data }));
      });
    } catch (err) {
      // The refusal stands whether or not its audit record could be written.
      log.error({ err, reason: data.reason }, 'audit event not recorded');
    }
  };

  const audit = async (orgId: string | undefined, data: AuditInput): Promise<void> => {
    const kind = { orgId: orgId ?? UNKNOWN_ORG, stage: data.stage, reason: data.reason };
    const at = now();
    if (!sampler.admit(kind, at)) return;
    log.warn(
      { stage: data.stage, reason: data.reason, providerError: data.providerError, orgId: kind.orgId },
      'connect attempt rejected',
    );
    await write(kind.orgId, { ...data, rejectedAt: at.toISOString() });
  };

  /** Closes the window: one summary per kind that had more refusals than were written one by one. */
  const flush = async (): Promise<void> => {
    for (const s of sampler.drain()) {
      const { orgId, stage, reason } = s.kind;
      log.warn({ stage, reason, orgId, count: s.count }, 'connect attempts rejected (summary)');
      const single = s.count === 1;
      await write(orgId, {
        stage,
        reason,
        ...(single ? {} : { count: s.count, firstRejectedAt: s.first.toISOString() }),
        rejectedAt: s.last.toISOString(),
      });
    }
  };

  return Object.assign(audit, { flush });
}

/** What the routes need of the audit trail: record one refusal. */
export type Audit = (orgId: string | undefined, data: AuditInput) => Promise<void>;
