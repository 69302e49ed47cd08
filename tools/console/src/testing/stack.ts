import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { orgToken } from '@qbo/stack/services';
import { repoRoot, serverUrl, testBrokers, uniqueName } from '@qbo/testkit';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';

/** The whole local stack (`npm start` on free ports, its own database and topics), with the console. */
export interface StackUnderTest {
  consoleUrl: string;
  signInUrl: string;
  simUrl: string;
  database: string;
  topicPrefix: string;
  /** An org token signed with the stack's key: `role: operator` when asked. */
  token(orgId: string, operator?: boolean): Promise<string>;
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  output(): string;
  stop(): Promise<void>;
}

export async function startStack(): Promise<StackUnderTest> {
  const root = repoRoot();
  const database = uniqueName('test_console').replace(/-/g, '_');
  const topicPrefix = `${uniqueName('console')}.`;
  // Secrets of this stack only: another stack started at the same time keeps its own.
  const secretsFile = join(await mkdtemp(join(tmpdir(), 'console-stack-')), 'secrets.json');
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'tools', 'stack', 'dist', 'cli.js'), '--free-ports'],
    {
      env: {
        ...process.env,
        QBO_DATABASE: database,
        KAFKA_BROKERS: testBrokers().join(','),
        KAFKA_TOPIC_PREFIX: topicPrefix,
        KAFKA_TOPIC_PARTITIONS: '3',
        QBO_STACK_SECRETS_FILE: secretsFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const link = /sign in as the local operator: (\S+)/.exec(output)?.[1];
      if (link) resolve(link);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`the stack exited (${code}) before it was ready:\n${output}`)),
    );
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), 120_000);
  const signInUrl = await ready.finally(() => clearTimeout(timer));
  const portOf = (name: string) => {
    const found = new RegExp(`^\\s+${name}\\s+(http://127\\.0\\.0\\.1:\\d+)\\s+ok$`, 'm').exec(output)?.[1];
    if (!found) throw new Error(`no address for ${name} in:\n${output}`);
    return found;
  };
  const secrets = JSON.parse(await readFile(secretsFile, 'utf8')) as {
    orgJwtSecret: string;
  };
  const dbUrl = new URL(serverUrl());
  dbUrl.pathname = `/${database}`;
  const db = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
  return {
    consoleUrl: portOf('console'),
    signInUrl,
    simUrl: portOf('qbo-simulator'),
    database,
    topicPrefix,
    token: (orgId, operator = false) => orgToken(secrets.orgJwtSecret, orgId, { operator }),
    query: async (sql, params = []) => (await db.query(sql, params)).rows,
    output: () => output,
    async stop() {
      await db.end();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`drop database if exists "${database}" with (force)`);
      await admin.end();
      await rm(dirname(secretsFile), { recursive: true, force: true });
    },
  };
}

/** Debian's chromium (`apt-get install chromium`), headless; CHROMIUM_PATH names another. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    // As root (CI containers) chromium refuses to start with its sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** Screenshots go to .local/screenshots (gitignored), one per page the suite visits. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join(repoRoot(), '.local', 'screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** The simulator's control API. */
export async function sim<T>(simUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${simUrl}/_sim${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} /_sim${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/**
 * Connects a company through the console as the signed-in user: the console's button, the simulator's real
 * consent page (the first company picked), back to the console. Returns the realm consented to.
 */
export async function connectThroughConsent(page: Page, shotName?: string): Promise<string> {
  await page.click('[data-test=connect]');
  await page.waitForSelector('input[name=realmId]');
  if (shotName) await screenshot(page, shotName);
  const realmId = await page.$eval(
    'input[name=realmId]:checked',
    (e) => (e as unknown as { value: string }).value,
  );
  await page.click('button[value=approve]');
  await page.waitForSelector(`[data-test=connection][data-realm-id="${realmId}"]`, { timeout: 30_000 });
  return realmId;
}
