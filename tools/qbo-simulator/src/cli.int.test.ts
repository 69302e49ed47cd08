import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
let child: ReturnType<typeof spawn>;
let url: string;
let output = '';

before(async () => {
  child = spawn(
    process.execPath,
    [
      CLI,
      '--port',
      '0',
      '--seed',
      '5',
      '--companies',
      '2',
      '--records',
      '100',
      '--control',
      '--consent',
      'auto',
      '--client-secret',
      'cli-secret-value',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      output += `${line}\n`;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'service started' && entry.url) resolve(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
});

after(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('the CLI seeds the companies it was asked for, the same way for the same seed', async () => {
  const companies = (await (await fetch(`${url}/_sim/companies`)).json()) as {
    realmId: string;
    counts: { Customer: number };
  }[];
  assert.equal(companies.length, 2);
  assert.deepEqual(
    companies.map((c) => c.counts.Customer),
    [40, 40],
  );
  assert.ok(companies.every((c) => BigInt(c.realmId) > BigInt(Number.MAX_SAFE_INTEGER)));
});

test('the CLI serves the discovery document with its own URLs and Intuit issuer', async () => {
  const doc = (await (await fetch(`${url}/.well-known/openid_sandbox_configuration/`)).json()) as Record<
    string,
    string
  >;
  assert.equal(doc.issuer, 'https://oauth.platform.intuit.com/op/v1');
  assert.equal(doc.token_endpoint, `${url}/oauth2/v1/tokens/bearer`);
});

test('the control API arms faults and moves the clock over HTTP', async () => {
  const fault = await fetch(`${url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: '500', endpoint: 'token', times: 1 }),
  });
  assert.equal(fault.status, 201);
  const token = await fetch(`${url}/oauth2/v1/tokens/bearer`, {
    method: 'POST',
    body: 'grant_type=refresh_token&refresh_token=x',
  });
  assert.equal(token.status, 500);
  const clock = (await (
    await fetch(`${url}/_sim/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ set: '2030-01-01T00:00:00Z', freeze: true }),
    })
  ).json()) as { iso: string };
  assert.equal(clock.iso, '2030-01-01T00:00:00.000Z');
});

test('the control API rejects an invalid request with a problem body', async () => {
  const response = await fetch(`${url}/_sim/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"seed":"x"}',
  });
  assert.equal(response.status, 400);
  assert.equal(((await response.json()) as { code: string }).code, 'invalid_request');
});

test('the CLI never prints its client secret and stops cleanly on SIGTERM', async () => {
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.ok(!output.includes('cli-secret-value'));
});
