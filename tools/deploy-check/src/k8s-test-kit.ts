import { join } from 'node:path';
import { k8sDir, render } from './k8s-render.js';

// What the k8s tests share: the deployed workloads and how an overlay is rendered (from a copy, when given).

export const SERVICES = ['auth-service', 'console', 'sync-service', 'token-service', 'webhook-ingest'];
/** The services that call Intuit; webhook-ingest only receives from it. */
export const INTERNET = ['auth-service', 'sync-service', 'token-service'];

export const renderOverlay = (overlay: string, dir = k8sDir) => render(join(dir, 'overlays', overlay));
