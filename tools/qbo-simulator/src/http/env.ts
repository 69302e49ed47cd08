import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Company } from '../domain/company.js';

/** What the Accounting API guard leaves for the routes: the company and the calling app. */
export interface ApiEnv {
  Bindings: Partial<HttpBindings>;
  Variables: { company: Company; clientId: string };
}

export type ApiContext = Context<ApiEnv>;
