import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContainerInspect, type ContainerProbe, capabilities, type ImageFile } from './checks.js';
import { docker } from './engine.js';
import { must, run } from './exec.js';

export async function inspectText(container: string): Promise<string> {
  return docker(['inspect', container]);
}

export async function inspect(container: string): Promise<ContainerInspect> {
  const [first] = JSON.parse(await inspectText(container)) as ContainerInspect[];
  if (!first) throw new Error(`docker inspect ${container}: nothing`);
  return first;
}

/**
 * Asks the running container itself: who a process started in it is, the capabilities of its PID 1, and
 * whether a file can be created on its root file system (in the home of the image's user, where a
 * writable root would let it).
 */
export async function probe(container: string): Promise<ContainerProbe> {
  const script = [
    'id -u',
    'id -g',
    'cat /proc/1/status',
    'if touch /home/node/.qbo-probe 2>/dev/null || touch /.qbo-probe 2>/dev/null; then echo ROOT=writable; else echo ROOT=read-only; fi',
  ].join('; ');
  const out = await docker(['exec', container, 'sh', '-c', script]);
  const [uid = '', gid = ''] = out.split('\n');
  return { uid, gid, ...capabilities(out), rootWritable: out.includes('ROOT=writable') };
}

/** Waits until the engine's healthcheck calls the container healthy; rejects when it says unhealthy or time runs out. */
export async function waitHealthy(container: string, timeoutMs: number): Promise<ContainerInspect> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await inspect(container);
    const status = c.State.Health?.Status;
    if (status === 'healthy' || status === 'unhealthy' || status === undefined || Date.now() > deadline)
      return c;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** `docker stop` with a grace period: SIGTERM, then SIGKILL once it runs out. Returns the seconds it took. */
export async function stopTimed(container: string, graceSeconds: number): Promise<number> {
  const started = Date.now();
  await docker(['stop', '-t', String(graceSeconds), container]);
  return (Date.now() - started) / 1000;
}

/**
 * Every file of an image, from its exported file system, with the text of our own source maps (under /app,
 * outside node_modules) read for the content checks.
 */
export async function imageFiles(image: string): Promise<ImageFile[]> {
  const id = (await docker(['create', image])).trim();
  const dir = await mkdtemp('/var/tmp/qbo-image-');
  try {
    const archive = join(dir, 'fs.tar');
    await docker(['export', '-o', archive, id]);
    // The listing from the archive itself; only our own source maps are unpacked, to be read.
    const listing = await must('tar', ['-tf', archive]);
    const files: ImageFile[] = [];
    const maps: string[] = [];
    for (const line of listing.split('\n')) {
      const name = line.replace(/^\.?\/?/, '').replace(/\/$/, '');
      if (name === '') continue;
      const path = `/${name}`;
      if (path.startsWith('/app/') && !path.includes('node_modules/') && path.endsWith('.map'))
        maps.push(name);
      else files.push({ path });
    }
    const root = join(dir, 'fs');
    await must('mkdir', [root]);
    if (maps.length > 0) await must('tar', ['-xf', archive, '-C', root, ...maps]);
    for (const name of maps) files.push({ path: `/${name}`, text: await readFile(join(root, name), 'utf8') });
    return files;
  } finally {
    await run('docker', ['rm', '-f', id]);
    await rm(dir, { recursive: true, force: true });
  }
}
