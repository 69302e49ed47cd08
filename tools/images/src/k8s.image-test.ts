import assert from 'node:assert/strict';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@qbo/local-kafka';
import { parseAllDocuments } from 'yaml';
import { DEPLOYABLES, imageOf } from './build.js';
import { docker } from './engine.js';
import { must } from './exec.js';

// The Kubernetes manifests deploy the images that were built: the same repository, the image's own command,
// its user, the ports its ConfigMap gives it, and volumes that are all it needs to write or read on a read-only
// root. Checked against the built images, and by running each image as the manifests would.

const root = repoRoot();

interface K8sContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    template: {
      spec: {
        containers: K8sContainer[];
        securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean };
        volumes?: { name: string; emptyDir?: unknown; secret?: unknown }[];
      };
    };
  };
}

const render = async (overlay: string): Promise<K8sObject[]> =>
  parseAllDocuments(await must('kubectl', ['kustomize', join(root, 'deploy', 'k8s', 'overlays', overlay)]))
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);

/** `registry.example.com/qbo/x@sha256:…` or `…/qbo/x:1.2` → `qbo/x`. */
const repositoryOf = (image: string) =>
  image
    .replace(/@.*$/, '')
    .replace(/:[^/]*$/, '')
    .split('/')
    .slice(-2)
    .join('/');

interface ImageConfig {
  User: string;
  Cmd: string[];
  WorkingDir: string;
  Entrypoint: string[] | null;
}

describe('the Kubernetes manifests agree with the built images', () => {
  for (const overlay of ['dev', 'prod']) {
    it(`overlay ${overlay}: image, command, user, ports and volumes of every Deployment`, async () => {
      const objects = await render(overlay);
      // The console's image is not built here; its Deployment is held to its code by tools/deploy-check.
      const all = objects.filter((o) => o.kind === 'Deployment');
      assert.deepEqual(
        all.map((d) => d.metadata.name).filter((n) => n === 'console'),
        ['console'],
        'the console is deployed too',
      );
      const deployments = all.filter((o) => o.metadata.name !== 'console');
      assert.equal(deployments.length, 4, 'one Deployment per service');
      for (const deployment of deployments) {
        const pod = deployment.spec?.template.spec;
        const [container] = pod?.containers ?? [];
        assert.ok(pod && container, deployment.metadata.name);
        const what = `${overlay} ${deployment.metadata.name}`;
        const built = DEPLOYABLES.find(
          (d) => repositoryOf(imageOf(d.name)) === repositoryOf(container.image),
        );
        assert.ok(built, `${what}: ${container.image} is none of the built images`);
        const image = imageOf(built.name);
        const [config] = JSON.parse(
          await docker(['image', 'inspect', '--format', '{{json .Config}}', image]).then((t) => `[${t}]`),
        ) as ImageConfig[];
        assert.ok(config);

        // The command: the image's own, which the containers ran with.
        assert.equal(container.command, undefined, `${what}: the image's entrypoint is used`);
        assert.equal(container.args, undefined, `${what}: the image's CMD is used`);
        assert.deepEqual(config.Cmd, ['node', '--import', './dist/telemetry.js', 'dist/main.js']);

        // The user: the pod's (or container's) numeric user and group are the image's.
        const user = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
        const group = container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup;
        assert.equal(`${user}:${group}`, config.User, `${what}: runAsUser:runAsGroup is the image's USER`);
        assert.equal(pod.securityContext?.runAsNonRoot, true);

        // The ports: the ones the ConfigMap tells the service to listen on.
        const env: Record<string, string> = {};
        for (const from of container.envFrom ?? []) {
          const map = objects.find(
            (o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name,
          );
          Object.assign(env, map?.data ?? {});
        }
        for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
        const port = (name: string) => container.ports?.find((p) => p.name === name)?.containerPort;
        assert.equal(String(port('http')), env.PORT, `${what}: containerPort http is PORT`);
        assert.equal(
          String(port('metrics')),
          env.METRICS_PORT,
          `${what}: containerPort metrics is METRICS_PORT`,
        );

        // The volumes: run the image as the manifests would (their user, read-only root, no capabilities, no
        // init, the emptyDirs as tmpfs, the secret volume with a file per *_FILE) and ask it what it can do.
        const mounts = container.volumeMounts ?? [];
        const volume = (name: string) => pod.volumes?.find((v) => v.name === name);
        const scratch = mounts.filter((m) => volume(m.name)?.emptyDir !== undefined).map((m) => m.mountPath);
        const secretMount = mounts.find((m) => volume(m.name)?.secret !== undefined);
        assert.ok(secretMount?.readOnly, `${what}: a read-only secret volume`);
        const files = Object.entries(env).filter(([name]) => name.endsWith('_FILE'));
        for (const [name, path] of files)
          assert.ok(
            path.startsWith(`${secretMount.mountPath}/`),
            `${what}: ${name} lies in the secret volume`,
          );
        const dir = await mkdtemp('/var/tmp/qbo-k8s-secrets-');
        try {
          // As the kubelet mounts a secret volume: the folder and its files readable by the fsGroup.
          await chown(dir, 0, Number(group));
          await chmod(dir, 0o750);
          for (const [, path] of files) {
            await writeFile(join(dir, basename(path)), 'placeholder', { mode: 0o440 });
            await chown(join(dir, basename(path)), 0, Number(group));
          }
          const script = `
            const fs = require('node:fs');
            const can = (f) => { try { f(); return true; } catch { return false; } };
            const out = {
              cwd: process.cwd(),
              uid: process.getuid(), gid: process.getgid(),
              commandFiles: ${JSON.stringify(config.Cmd.filter((a) => a.endsWith('.js')))}.every((f) => fs.existsSync(f)),
              scratchWritable: ${JSON.stringify(scratch)}.every((d) => can(() => fs.writeFileSync(d + '/probe', 'x'))),
              secretsReadable: ${JSON.stringify(files.map(([, p]) => p))}.every((p) => can(() => fs.readFileSync(p))),
              rootWritable: ['/app/probe', process.cwd() + '/probe', '/home/node/probe'].some((p) => can(() => fs.writeFileSync(p, 'x'))),
            };
            console.log(JSON.stringify(out));`;
          const out = await docker([
            'run',
            '--rm',
            ...['--network', 'none', '--user', `${user}:${group}`, '--read-only', '--cap-drop', 'ALL'],
            ...scratch.flatMap((d) => ['--tmpfs', d]),
            ...['-v', `${dir}:${secretMount.mountPath}:ro`],
            image,
            ...['node', '-e', script],
          ]);
          const seen = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
          assert.deepEqual(
            seen,
            {
              cwd: config.WorkingDir,
              uid: user,
              gid: group,
              commandFiles: true,
              scratchWritable: true,
              secretsReadable: true,
              rootWritable: false,
            },
            what,
          );
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    });
  }
});
