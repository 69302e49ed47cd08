/**
 * The one rule for consumer-group names: `<topic prefix><service>.<consumer>`, and `.<generation>` after it
 * for a projection kept in the service's own tables, whose group is born with the store (an empty store gets
 * a new group, which reads the topics from the beginning and so rebuilds the projection).
 */
export function consumerGroupId({
  prefix = '',
  service,
  consumer,
  generation,
}: {
  prefix?: string | undefined;
  service: string;
  consumer: string;
  generation?: string | undefined;
}): string {
  for (const [what, part] of [
    ['service', service],
    ['consumer', consumer],
  ] as const) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(part)) throw new Error(`invalid ${what} name for a group: ${part}`);
  }
  return `${prefix}${service}.${consumer}${generation === undefined ? '' : `.${generation}`}`;
}
