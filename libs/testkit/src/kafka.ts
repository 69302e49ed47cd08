import { randomBytes } from 'node:crypto';

/** The broker the tests use: KAFKA_BROKERS, or the one `npm run kafka -- start` runs. */
export const testBrokers = (): string[] => (process.env.KAFKA_BROKERS ?? '127.0.0.1:39092').split(',');

/** A name no other test run uses, for topics and consumer groups. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(5).toString('hex')}`;
