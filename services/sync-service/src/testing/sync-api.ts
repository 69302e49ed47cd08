/** The sync API as an outside client calls it, over real HTTP. */
export interface ApiAnswer {
  status: number;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in the tests
  body: any;
}

export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  o: { token?: string; authorization?: string; body?: unknown } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (o.authorization !== undefined) headers.authorization = o.authorization;
  else if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: text.length > 0 ? JSON.parse(text) : undefined,
  };
}

/** Every endpoint of the API that names a run, a connection or an error row, with a body where it takes one. */
export const endpointsOf = (ids: { runId: string; connectionId: string; errorId: string }) =>
  [
    ['GET', `/runs/${ids.runId}`],
    ['GET', `/runs/${ids.runId}/api-calls`],
    ['POST', `/runs/${ids.runId}/retry-errors`],
    ['GET', `/errors/${ids.errorId}`],
    ['POST', `/errors/${ids.errorId}/retry`],
    ['GET', `/connections/${ids.connectionId}`],
    ['POST', `/connections/${ids.connectionId}/sync`, { mode: 'incremental' }],
    ['POST', `/connections/${ids.connectionId}/pause`],
    ['POST', `/connections/${ids.connectionId}/resume`],
    ['PUT', `/connections/${ids.connectionId}/schedule`, { intervalMs: 3_600_000 }],
  ] as const;

/** The endpoints that list: no id in the path, so a foreign org finds nothing of another's in them. */
export const listEndpoints = [
  ['GET', '/runs'],
  ['GET', '/connections'],
  ['GET', '/errors'],
  ['GET', '/pushes'],
] as const;
