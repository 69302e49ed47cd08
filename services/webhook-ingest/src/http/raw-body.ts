import type { IncomingMessage } from 'node:http';

export type RawBody =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: 'too_large' | 'aborted' | 'too_slow' };

/**
 * Reads a request's bytes straight from Node's socket stream, refusing more than `maxBytes`: at once when the
 * declared length says so, otherwise as soon as a chunked body passes the limit (the rest is not read), and
 * giving up on a body not complete within `timeoutMs` (a slow sender holds no connection for long).
 * Cheaper than a byte-counting web stream around the body, which costs more than the HMAC on small payloads.
 */
export function readRawBody(
  req: IncomingMessage,
  maxBytes: number,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<RawBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes)
    return Promise.resolve({ ok: false, reason: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          req.pause();
          finish({ ok: false, reason: 'too_slow' });
        }, timeoutMs)
      : undefined;
    const finish = (result: RawBody) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop reading; the answer closes the connection, so the unread rest goes with it.
        req.pause();
        finish({ ok: false, reason: 'too_large' });
      } else chunks.push(chunk);
    };
    const onEnd = () =>
      finish({ ok: true, bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
    const onError = () => finish({ ok: false, reason: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}
