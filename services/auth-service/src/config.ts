import { env, serviceEnvShape } from '@qbo/service-kit';
import { z } from 'zod';

export const configSchema = z.object({ ...serviceEnvShape, PORT: env.port(8080) });

export type Config = z.output<typeof configSchema>;
