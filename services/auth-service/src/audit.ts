import type { Outbox } from '@qbo/event-bus';
import { ConnectAttemptRejected, type EventFactory, type EventOfType, UNKNOWN_ORG } from '@qbo/events';
import type { Logger, MikroORM } from '@qbo/service-kit';

export type RejectedData = EventOfType<'ConnectAttemptRejected'>['data'];
export type AuditInput = Omit<RejectedData, 'rejectedAt'>;

/** The security audit trail: one ConnectAttemptRejected through the outbox and one warn line, no secrets. */
export function createAudit({
  orm,
  outbox,
  events,
  log,
}: {
  orm: MikroORM;
  outbox: Outbox;
  events: EventFactory;
  log: Logger;
}) {
  return async (orgId: string | undefined, data: AuditInput): Promise<void> => {
    log.warn(
      {
        stage: data.stage,
        reason: data.reason,
        providerError: data.providerError,
        orgId: orgId ?? UNKNOWN_ORG,
      },
      'connect attempt rejected',
    );
    try {
      await orm.em.fork().transactional(async (em) => {
        await outbox.add(
          em,
          events(ConnectAttemptRejected, {
            orgId: orgId ?? UNKNOWN_ORG,
            data: { ...data, rejectedAt: new Date().toISOString() },
          }),
        );
      });
    } catch (err) {
      // The refusal stands whether or not its audit record could be written.
      log.error({ err, reason: data.reason }, 'audit event not recorded');
    }
  };
}

export type Audit = ReturnType<typeof createAudit>;
