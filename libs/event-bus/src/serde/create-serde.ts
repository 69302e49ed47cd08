import { createJsonSerde } from './json-serde.js';
import { createRegistrySerde } from './registry-serde.js';
import type { Serde } from './serde.js';

/** The registry's wire format when a registry URL is configured, plain validated JSON when not. */
export const createSerde = ({
  registryUrl,
  clientId,
}: {
  registryUrl?: string | undefined;
  clientId?: string;
}): Serde =>
  registryUrl
    ? createRegistrySerde({ url: registryUrl, ...(clientId ? { clientId } : {}) })
    : createJsonSerde();
