import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { docker } from './engine.js';
import { must, run } from './exec.js';

/**
 * The Dockerfile builds FROM `node:26.10.0-slim`, which production pulls from a public registry. Where no
 * registry can be reached, a local stand-in takes that name: Debian bookworm (debootstrap, minbase) from the
 * machine's own Debian mirror, libatomic1, the project's pinned Node binary (node_modules/node), npm, and the
 * machine's CA bundle for npm (NODE_EXTRA_CA_CERTS). It carries the label below; nothing ever pushes it.
 */
export const BASE_IMAGE = 'node:26.10.0-slim';
export const STAND_IN_LABEL = 'org.qbo.stand-in';
const STAND_IN_NAME = 'qbo-local/node-stand-in:26.10.0-slim';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const NODE_UID = 1000;

/** The first Debian mirror apt is configured with (deb822 sources or sources.list). */
export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri =
      /^URIs:\s*(\S+\/debian)\s*$/m.exec(text)?.[1] ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s/m.exec(text)?.[1];
    if (uri) return uri;
  }
  return 'http://deb.debian.org/debian';
}

/** Which image answers to the base's name: absent, the stand-in, or a real one (pulled from a registry). */
export async function baseKind(): Promise<'absent' | 'stand-in' | 'registry'> {
  const ran = await run('docker', [
    'image',
    'inspect',
    '--format',
    `{{index .Config.Labels "${STAND_IN_LABEL}"}}`,
    BASE_IMAGE,
  ]);
  if (ran.code !== 0) return 'absent';
  return ran.stdout.trim() === 'true' ? 'stand-in' : 'registry';
}

/** Builds the stand-in once; a base already there (stand-in or real) is kept. */
export async function ensureBase(root: string, log: (line: string) => void): Promise<void> {
  const kind = await baseKind();
  if (kind !== 'absent') {
    log(`${BASE_IMAGE} present (${kind})`);
    return;
  }
  const nodeBinary = join(root, 'node_modules', 'node', 'bin', 'node');
  const npmDir = npmPackageDir();
  const work = await mkdtemp('/var/tmp/qbo-base-');
  const rootfs = join(work, 'rootfs');
  try {
    const mirror = debianMirror();
    log(`debootstrap bookworm (minbase) from ${mirror}`);
    await must('debootstrap', ['--variant=minbase', '--include=libatomic1', 'bookworm', rootfs, mirror]);
    copyFileSync(nodeBinary, join(rootfs, 'usr/local/bin/node'));
    cpSync(npmDir, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
    mkdirSync(join(rootfs, dirname(CA_BUNDLE)), { recursive: true });
    copyFileSync(CA_BUNDLE, join(rootfs, CA_BUNDLE));
    // The official image's `node` user and group, uid/gid 1000.
    await appendFile(join(rootfs, 'etc/passwd'), `node:x:${NODE_UID}:${NODE_UID}::/home/node:/bin/sh\n`);
    await appendFile(join(rootfs, 'etc/group'), `node:x:${NODE_UID}:\n`);
    await must('install', ['-d', '-o', `${NODE_UID}`, '-g', `${NODE_UID}`, join(rootfs, 'home/node')]);
    await rm(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    await rm(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
    writeFileSync(
      join(rootfs, 'etc/qbo-stand-in'),
      'A local stand-in for node:26.10.0-slim; never pushed.\n',
    );
    const version = (await must(nodeBinary, ['--version'])).trim().replace(/^v/, '');
    log(`importing the stand-in (Node ${version}) as ${STAND_IN_NAME}`);
    const tar = await mkdtemp('/var/tmp/qbo-base-tar-');
    const archive = join(tar, 'rootfs.tar');
    await must('tar', ['-C', rootfs, '-cf', archive, '.']);
    await docker([
      'import',
      ...['--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...['--change', `ENV NODE_VERSION=${version}`],
      ...['--change', `ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`],
      ...['--change', `LABEL ${STAND_IN_LABEL}=true`],
      ...['--change', 'CMD ["node"]'],
      archive,
      STAND_IN_NAME,
    ]);
    await rm(tar, { recursive: true, force: true });
    await docker(['tag', STAND_IN_NAME, BASE_IMAGE]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** npm as Debian's nodejs or a Node install ships it, beside the `npm` on PATH. */
function npmPackageDir(): string {
  for (const dir of ['/usr/lib/node_modules/npm', '/usr/local/lib/node_modules/npm', '/usr/share/nodejs/npm'])
    if (existsSync(join(dir, 'bin', 'npm-cli.js'))) return dir;
  throw new Error('npm not found: the stand-in base needs npm (apt-get install npm)');
}
