import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ContainerInspect,
  type ContainerProbe,
  capabilities,
  devPackagesOf,
  healthProblems,
  imageContentProblems,
  inspectSecretProblems,
  runtimeProblems,
  stopProblems,
} from './checks.js';

const hardened: ContainerInspect = {
  Name: '/web',
  Config: { User: '1000:1000', Env: ['DATABASE_URL_FILE=/run/secrets/database_url'] },
  HostConfig: {
    ReadonlyRootfs: true,
    CapDrop: ['ALL'],
    CapAdd: null,
    SecurityOpt: ['no-new-privileges:true'],
  },
  State: { Status: 'running', ExitCode: 0, Health: { Status: 'healthy' } },
};
const probed: ContainerProbe = {
  uid: '1000',
  gid: '1000',
  capEff: '0000000000000000',
  capBnd: '0000000000000000',
  rootWritable: false,
};
const kinds = (problems: string[]) => problems.map((p) => p.split(':')[0]);

describe('runtimeProblems', () => {
  it('passes a hardened container', () => assert.deepEqual(runtimeProblems(hardened, probed), []));

  it('names a container running as root', () => {
    const root = { ...hardened, Config: { ...hardened.Config, User: '' } };
    assert.deepEqual(kinds(runtimeProblems(root, { ...probed, uid: '0', gid: '0' })), [
      'non-root',
      'non-root',
    ]);
  });

  it('names a writable root file system, by configuration and by a file written', () => {
    const writable = { ...hardened, HostConfig: { ...hardened.HostConfig, ReadonlyRootfs: false } };
    assert.deepEqual(kinds(runtimeProblems(writable, { ...probed, rootWritable: true })), [
      'read-only root',
      'read-only root',
    ]);
  });

  it('names capabilities kept or added back', () => {
    const kept = { ...hardened, HostConfig: { ...hardened.HostConfig, CapDrop: [], CapAdd: ['NET_ADMIN'] } };
    const problems = runtimeProblems(kept, { ...probed, capBnd: '00000000a80425fb' });
    assert.deepEqual(kinds(problems), ['capabilities', 'capabilities', 'capabilities']);
  });

  it('reads the capability sets of /proc/<pid>/status', () => {
    const status =
      'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n';
    assert.deepEqual(capabilities(status), { capEff: '0000000000000000', capBnd: '00000000a80425fb' });
  });
});

describe('healthProblems and stopProblems', () => {
  it('pass a healthy container and a clean stop within the grace period', () => {
    assert.deepEqual(healthProblems(hardened), []);
    const exited = { ...hardened, State: { Status: 'exited', ExitCode: 0 } };
    assert.deepEqual(stopProblems(exited, 0.8, 10), []);
  });

  it('name an unhealthy container with its last probe output, and one without a healthcheck', () => {
    const sick = {
      ...hardened,
      State: {
        Status: 'running',
        ExitCode: 0,
        Health: { Status: 'unhealthy', Log: [{ Output: 'ECONNREFUSED' }] },
      },
    };
    assert.match(healthProblems(sick)[0] ?? '', /unhealthy.*ECONNREFUSED/);
    assert.match(
      healthProblems({ ...hardened, State: { Status: 'running', ExitCode: 0 } })[0] ?? '',
      /no healthcheck/,
    );
  });

  it('name a stop that needed SIGKILL', () => {
    const killed = { ...hardened, State: { Status: 'exited', ExitCode: 137 } };
    assert.deepEqual(kinds(stopProblems(killed, 10.3, 10)), ['SIGTERM', 'SIGTERM']);
  });
});

describe('inspectSecretProblems', () => {
  it('finds a secret value anywhere in the inspect output without printing it', () => {
    const secret = 'sk_live_0123456789abcdef';
    const problems = inspectSecretProblems(JSON.stringify({ Env: [`TOKEN=${secret}`] }), [
      secret,
      'other-secret-value',
    ]);
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0] ?? '', /0123456789/);
    assert.deepEqual(inspectSecretProblems('{"Env":["TOKEN_FILE=/run/secrets/token"]}', [secret]), []);
  });
});

describe('imageContentProblems', () => {
  const dev = devPackagesOf({
    packages: {
      '': {},
      'node_modules/typescript': { dev: true },
      'node_modules/pg': {},
      'libs/event-bus/node_modules/@types/pg': { dev: true },
    },
  });
  const clean = [
    { path: '/usr/local/bin/node' },
    { path: '/app/node_modules/pg/package.json' },
    { path: '/app/services/web/dist/main.js' },
    { path: '/app/services/web/dist/main.js.map', text: '{"version":3,"sources":["../src/main.ts"]}' },
  ];

  it('passes an image of production files only', () =>
    assert.deepEqual(imageContentProblems(clean, dev, ['s3cret-value']), []));

  it('names npm, dev dependencies, tests, sources, secret files and source maps that embed sources or secrets', () => {
    const problems = imageContentProblems(
      [
        ...clean,
        { path: '/usr/local/lib/node_modules/npm' },
        { path: '/app/node_modules/typescript/package.json' },
        { path: '/app/libs/event-bus/node_modules/@types/pg/package.json' },
        { path: '/app/services/web/dist/main.test.js' },
        { path: '/app/services/web/src/main.ts' },
        { path: '/app/.local/stack/secrets.json' },
        {
          path: '/app/services/web/dist/keys.js.map',
          text: '{"sourcesContent":["const k=\\"s3cret-value\\""]}',
        },
      ],
      dev,
      ['s3cret-value'],
    );
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), [
      'development dependency in the image',
      'development dependency in the image',
      'package manager in the image',
      'secret file in the image',
      'source file in the image',
      'source map embedding sources',
      'source map holding a secret',
      'test file in the image',
    ]);
  });
});
