import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RegistryDouble {
  url: string;
  /** Every request seen, as `METHOD /path`, for asserting the client's call sequence. */
  requests: string[];
  /** Makes every request fail with 503 while true, like a registry that is down. */
  setUnavailable(down: boolean): void;
  stop(): Promise<void>;
}

interface Stored {
  id: number;
  schema: string;
  schemaType: string;
}

/**
 * An in-process double of the Confluent Schema Registry endpoints that @kafkajs/confluent-schema-registry
 * calls (config, subject versions, schemas by id), for unit tests driven by the real client. Compatibility is not
 * checked here; the integration test against Apicurio covers that.
 */
export async function startRegistryDouble(): Promise<RegistryDouble> {
  const requests: string[] = [];
  const schemas: Stored[] = [];
  const subjects = new Map<string, number[]>();
  const configs = new Map<string, string>();
  let down = false;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, code: number, message: string) =>
    send(res, 404, { error_code: code, message });
  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return chunks.length === 0
      ? {}
      : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
  };
  const version = (subject: string, ids: number[], index: number) => {
    const s = schemas[(ids[index] ?? 0) - 1] as Stored;
    return { subject, id: s.id, version: index + 1, schema: s.schema, schemaType: s.schemaType };
  };

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    requests.push(`${req.method} ${path}`);
    if (down) return send(res, 503, { error_code: 50301, message: 'unavailable' });
    const [first, second, third, fourth] = parts;

    if (first === 'config' && second) {
      if (req.method === 'PUT') {
        const body = await readBody(req);
        configs.set(second, String(body.compatibility));
        return send(res, 200, { compatibility: body.compatibility });
      }
      const level = configs.get(second);
      return level
        ? send(res, 200, { compatibilityLevel: level })
        : notFound(res, 40408, 'no subject config');
    }
    if (first === 'schemas' && second === 'ids' && third) {
      const s = schemas[Number(third) - 1];
      return s
        ? send(res, 200, { schema: s.schema, schemaType: s.schemaType })
        : notFound(res, 40403, 'schema not found');
    }
    if (first === 'subjects' && !second) return send(res, 200, [...subjects.keys()]);
    if (first === 'subjects' && second) {
      const ids = subjects.get(second) ?? [];
      if (third === 'versions' && req.method === 'POST') {
        const body = await readBody(req);
        const schema = String(body.schema);
        const schemaType = String(body.schemaType ?? 'AVRO');
        let stored = schemas.find((s) => s.schema === schema && s.schemaType === schemaType);
        if (!stored) {
          stored = { id: schemas.length + 1, schema, schemaType };
          schemas.push(stored);
        }
        if (!ids.includes(stored.id)) subjects.set(second, [...ids, stored.id]);
        return send(res, 200, { id: stored.id });
      }
      if (ids.length === 0) return notFound(res, 40401, 'subject not found');
      if (third === 'versions' && fourth) {
        const index = fourth === 'latest' ? ids.length - 1 : Number(fourth) - 1;
        return ids[index]
          ? send(res, 200, version(second, ids, index))
          : notFound(res, 40402, 'version not found');
      }
      if (!third && req.method === 'POST') {
        const body = await readBody(req);
        const index = ids.findIndex((id) => schemas[id - 1]?.schema === String(body.schema));
        return index >= 0
          ? send(res, 200, version(second, ids, index))
          : notFound(res, 40403, 'schema not found');
      }
    }
    return notFound(res, 404, 'no such route');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setUnavailable: (value) => {
      down = value;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
