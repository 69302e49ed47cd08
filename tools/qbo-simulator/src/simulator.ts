import { startHttpServer } from '@qbo/service-kit';
import type { Hono } from 'hono';
import { createControl, type SimulatorControl } from './control.js';
import { createCore } from './core.js';
import { createApp } from './http/app.js';
import type { SimulatorOptions } from './options.js';

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`; Intuit's paths hang off it. */
  url: string;
  port: number;
  /** The control operations, in process (the same as the HTTP control API). */
  control: SimulatorControl;
  close(): Promise<void>;
}

/** Starts a simulator on a real HTTP port. */
export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  let url = options.publicUrl ?? '';
  const core = createCore(options, () => url);
  const control = createControl(core);
  if (options.seed) control.seed(options.seed);
  const aborter = new AbortController();
  const app = createApp({ core, control: options.control ? control : undefined, signal: aborter.signal });
  const host = options.host ?? '127.0.0.1';
  // The app's typed bindings are the node-server's own; startHttpServer takes the untyped app.
  const server = await startHttpServer(app as unknown as Hono, { host, port: options.port ?? 0 });
  if (!options.publicUrl) url = `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  return {
    url,
    port: server.port,
    control,
    async close() {
      aborter.abort();
      core.webhooks.close();
      await server.close(1_000);
    },
  };
}
