import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deployments, hpas, scaledObjects } from './k8s-objects.js';
import { internetEgress, rulesFor, secretFilesRule } from './k8s-policy.js';
import { type K8sObject, k8sDir, overlayNames } from './k8s-render.js';
import { schemaProblems } from './k8s-schema.js';
import { checkAllServiceEnvs } from './k8s-service-env.js';
import { INTERNET, renderOverlay, SERVICES } from './k8s-test-kit.js';
import { unknownFieldProblems } from './k8s-typecheck.js';

test('the overlays are dev and prod', () => {
  assert.deepEqual(overlayNames(), ['dev', 'prod']);
});

for (const overlay of overlayNames()) {
  describe(`overlay ${overlay}`, () => {
    let objects: K8sObject[] = [];
    before(() => {
      objects = renderOverlay(overlay);
    });

    test('renders a Deployment per service', () => {
      assert.deepEqual(
        deployments(objects)
          .map((d) => d.metadata.name)
          .sort(),
        SERVICES,
      );
    });

    test('every object passes its schema', () => {
      assert.deepEqual(schemaProblems(objects), []);
    });

    test('no object has a field its type does not know', () => {
      assert.deepEqual(unknownFieldProblems(objects), []);
    });

    for (const [name, rule] of rulesFor(overlay)) {
      test(`policy: ${name}`, () => {
        assert.deepEqual(rule(objects), []);
      });
    }

    test('only the services that call Intuit may reach the internet', () => {
      assert.deepEqual(internetEgress(objects), { allowed: INTERNET, problems: [] });
    });

    test("every variable set is one the service's config declares, and its config parses", async () => {
      const results = await checkAllServiceEnvs(objects);
      assert.deepEqual(
        results.map((r) => r.service),
        deployments(objects).map((d) => d.metadata.name),
      );
      assert.deepEqual(
        results.flatMap((r) => r.problems),
        [],
      );
    });
  });
}

test('prod scales the HTTP services and sync-service with HPAs and the token-service consumer with KEDA; dev runs without KEDA', () => {
  const prod = renderOverlay('prod');
  assert.deepEqual(
    hpas(prod)
      .map((h) => h.spec?.scaleTargetRef.name)
      .sort(),
    ['auth-service', 'sync-service', 'webhook-ingest'],
  );
  assert.deepEqual(
    scaledObjects(prod)
      .map((s) => s.spec.scaleTargetRef.name)
      .sort(),
    ['token-service'],
  );
  assert.ok(hpas(prod).every((h) => (h.spec?.minReplicas ?? 1) >= 3));
  assert.ok(scaledObjects(prod).every((s) => (s.spec.minReplicaCount ?? 0) >= 2));
  assert.deepEqual(scaledObjects(renderOverlay('dev')), []);
});

/**
 * As `k8s-broken-render.test.ts` does with a render, but through kustomize: a copy of deploy/k8s with a file
 * broken.
 */
describe('each stage fails on a broken copy of the files', () => {
  const copies: string[] = [];
  const copyTree = () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-copy-'));
    cpSync(k8sDir, dir, { recursive: true });
    copies.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  test('render: a deprecated commonLabels warns, and the warning fails the render', () => {
    const dir = copyTree();
    appendFileSync(join(dir, 'base', 'kustomization.yaml'), 'commonLabels:\n  team: qbo\n');
    assert.throws(() => renderOverlay('dev', dir), /commonLabels/);
  });

  test('config: a variable added to a service settings file that its config does not read', async () => {
    const dir = copyTree();
    appendFileSync(join(dir, 'base', 'sync-service', 'config.env'), 'SYNC_BATCH_SIZE=100\n');
    const problems = (await checkAllServiceEnvs(renderOverlay('prod', dir))).flatMap((r) => r.problems);
    assert.deepEqual(problems, [
      "Deployment/sync-service: sets SYNC_BATCH_SIZE, which sync-service's config does not declare",
    ]);
  });

  test('console: a variable it does not read, an API named by an address outside the render, and a wrong HOST', async () => {
    const dir = copyTree();
    const file = join(dir, 'base', 'console', 'config.env');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')
        .replace('SYNC_SERVICE_URL=http://sync-service', 'SYNC_SERVICE_URL=http://sync.example.com')
        .replace('HOST=0.0.0.0', 'HOST=127.0.0.1')}DATABASE_URL=postgres://db/qbo\n`,
    );
    const problems = (await checkAllServiceEnvs(renderOverlay('prod', dir))).flatMap((r) => r.problems);
    assert.deepEqual(problems.sort(), [
      'Deployment/console: HOST must be 0.0.0.0 to be reached in the pod',
      'Deployment/console: SYNC_SERVICE_URL must name the sync-service Service rendered here, not http://sync.example.com',
      'Deployment/console: sets DATABASE_URL, which the console does not read',
    ]);
  });

  test('secret files: a key dropped from a SealedSecret', () => {
    const dir = copyTree();
    const file = join(dir, 'components', 'sealed-secrets', 'auth-service.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {4}REDIS_URL: .*\n/m, ''));
    assert.deepEqual(secretFilesRule(renderOverlay('dev', dir)), [
      'Deployment/auth-service container app: REDIS_URL_FILE reads REDIS_URL, which Secret auth-service-secrets does not hold',
    ]);
  });
});
