import { join } from 'node:path';

export interface ServiceSpec {
  name: string;
  port: number;
}

/** The platform's deployables, in start order, on the ports their configs default to. */
export const SERVICES: readonly ServiceSpec[] = [
  { name: 'token-service', port: 8081 },
  { name: 'auth-service', port: 8080 },
  { name: 'sync-service', port: 8082 },
  { name: 'webhook-ingest', port: 8083 },
];

export const entryOf = (root: string, name: string) => ({
  entry: join(root, 'services', name, 'dist', 'main.js'),
  preload: join(root, 'services', name, 'dist', 'telemetry.js'),
});
