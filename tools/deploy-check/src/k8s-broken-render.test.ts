import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  type ConfigMap,
  configMaps,
  type Deployment,
  deployments,
  type Hpa,
  hpas,
  networkPolicies,
  pdbs,
  podSpecOf,
  scaledObjects,
  services,
} from './k8s-objects.js';
import {
  configMapSecretsRule,
  imagesRule,
  internetEgress,
  namespaceRule,
  networkPolicyRule,
  pdbRule,
  probesRule,
  resourcesRule,
  scalingRule,
  secretFilesRule,
  securityContextRule,
  serviceAccountRule,
  serviceSelectorRule,
  spreadRule,
  startCommandRule,
  tmpRule,
} from './k8s-policy.js';
import type { K8sObject } from './k8s-render.js';
import { schemaProblems } from './k8s-schema.js';
import { checkAllServiceEnvs } from './k8s-service-env.js';
import { INTERNET, renderOverlay } from './k8s-test-kit.js';
import { unknownFieldProblems } from './k8s-typecheck.js';

/** A deep copy of a render with one thing broken, so each check is seen to fail on what it guards. */
describe('each check fails on a broken copy of the prod render', () => {
  let prod: K8sObject[] = [];
  before(() => {
    prod = renderOverlay('prod');
  });
  const broken = (mutate: (objects: K8sObject[]) => void) => {
    const copy = structuredClone(prod);
    mutate(copy);
    return copy;
  };
  const dep = (objects: K8sObject[], name: string): Deployment => {
    const found = deployments(objects).find((d) => d.metadata.name === name);
    if (!found) throw new Error(`no Deployment ${name}`);
    return found;
  };
  const app = (objects: K8sObject[], name: string) => {
    const c = podSpecOf(dep(objects, name)).containers[0];
    if (!c) throw new Error(`no container in ${name}`);
    return c;
  };
  const configOf = (objects: K8sObject[], name: string): ConfigMap & { data: Record<string, string> } => {
    const found = configMaps(objects).find((c) => c.metadata.name.startsWith(`${name}-config-`));
    if (!found?.data) throw new Error(`no ConfigMap for ${name}`);
    return found as ConfigMap & { data: Record<string, string> };
  };
  const envProblems = async (objects: K8sObject[]) =>
    (await checkAllServiceEnvs(objects)).flatMap((r) => r.problems).join('\n');

  test('schema: a bad quantity, an unknown kind and broken secret CRDs', () => {
    const problems = schemaProblems(
      broken((o) => {
        const limits = app(o, 'auth-service').resources?.limits;
        if (limits) limits.memory = '512MB';
        o.push({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x' } });
        const es = o.find((x) => x.kind === 'ExternalSecret') as K8sObject & { spec: { target: object } };
        es.spec.target = {};
      }),
    ).join('\n');
    assert.match(problems, /Deployment\/auth-service: .*memory/);
    assert.match(problems, /Ingress\/x: no validator/);
    assert.match(problems, /ExternalSecret\/.*: target.name is required/);
    const sealed = schemaProblems([
      {
        apiVersion: 'bitnami.com/v1alpha1',
        kind: 'SealedSecret',
        metadata: { name: 's' },
        spec: { encryptedData: { A: '' }, template: { metadata: { name: 'other' } } },
      },
    ]).join('\n');
    assert.match(sealed, /encryptedData.A must be a sealed string/);
    assert.match(sealed, /template.metadata.name must equal metadata.name/);
  });

  test('unknown fields: a misspelt grace period, a HPA field on a ScaledObject', () => {
    const copy = broken((o) => {
      const spec = podSpecOf(dep(o, 'token-service')) as unknown as Record<string, unknown>;
      spec.terminationGracePeriodSecond = 60;
      const so = scaledObjects(o)[0];
      if (so) (so.spec as unknown as Record<string, unknown>).minReplicas = 2;
    });
    const problems = unknownFieldProblems(copy).join('\n');
    assert.match(problems, /Deployment\/token-service: TS2353: .*terminationGracePeriodSecond/);
    assert.match(problems, /ScaledObject\/.*: TS2353: .*minReplicas/);
  });

  test('resources: no memory limit', () => {
    const copy = broken((o) => {
      const r = app(o, 'sync-service').resources;
      if (r) r.limits = {};
    });
    assert.deepEqual(resourcesRule(copy), ['Deployment/sync-service container app: no memory limit']);
  });

  test('probes: liveness on /readyz, and an exec readiness probe', () => {
    const copy = broken((o) => {
      const c = app(o, 'token-service');
      if (c.livenessProbe?.httpGet) c.livenessProbe.httpGet.path = '/readyz';
      c.readinessProbe = { exec: { command: ['true'] } };
    });
    assert.deepEqual(probesRule(copy), [
      'Deployment/token-service container app: readinessProbe is not an httpGet probe',
      'Deployment/token-service container app: livenessProbe checks /readyz, expected /healthz',
    ]);
  });

  test('securityContext: distroless uid and a writable root filesystem', () => {
    const copy = broken((o) => {
      const spec = podSpecOf(dep(o, 'webhook-ingest'));
      if (spec.securityContext) spec.securityContext.runAsUser = 65532;
      const c = app(o, 'webhook-ingest');
      if (c.securityContext) c.securityContext.readOnlyRootFilesystem = false;
    });
    assert.deepEqual(securityContextRule(copy), [
      'Deployment/webhook-ingest: pod runAsUser must be the numeric 1000',
      'Deployment/webhook-ingest container app: readOnlyRootFilesystem is not true',
    ]);
  });

  test('/tmp: not mounted', () => {
    const copy = broken((o) => {
      const c = app(o, 'auth-service');
      c.volumeMounts = (c.volumeMounts ?? []).filter((m) => m.mountPath !== '/tmp');
    });
    assert.deepEqual(tmpRule(copy), ['Deployment/auth-service container app: /tmp is not mounted']);
  });

  test('start command: args override the image', () => {
    const copy = broken((o) => {
      app(o, 'auth-service').args = ['main.js'];
    });
    assert.deepEqual(startCommandRule(copy), [
      "Deployment/auth-service container app: sets args, overriding the image's start command",
    ]);
  });

  test('service accounts: an API token mounted', () => {
    const copy = broken((o) => {
      podSpecOf(dep(o, 'sync-service')).automountServiceAccountToken = true;
    });
    assert.deepEqual(serviceAccountRule(copy), [
      'Deployment/sync-service: automountServiceAccountToken is not false',
    ]);
  });

  test('images: a tag where prod needs a digest, latest and untagged anywhere', () => {
    const copy = broken((o) => {
      app(o, 'auth-service').image = 'registry.example.com/qbo/auth-service:0.1.0';
      app(o, 'sync-service').image = 'registry.example.com/qbo/sync-service:latest';
      app(o, 'token-service').image = 'registry.example.com:5000/qbo/token-service';
    });
    assert.equal(imagesRule({ digests: true })(copy).length, 3);
    assert.deepEqual(imagesRule({ digests: false })(copy), [
      'Deployment/sync-service container app: image registry.example.com/qbo/sync-service:latest uses the latest tag',
      'Deployment/token-service container app: image registry.example.com:5000/qbo/token-service has no tag (that is latest)',
    ]);
  });

  test('disruption budgets: a selector that misses its pods', () => {
    const copy = broken((o) => {
      const pdb = pdbs(o).find((p) => p.metadata.name === 'token-service');
      if (pdb?.spec) pdb.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'token' } };
    });
    assert.deepEqual(pdbRule(copy), [
      'Deployment/token-service: 0 PodDisruptionBudgets select its pods, expected 1',
    ]);
  });

  test('service selectors: a selector that matches no pods', () => {
    const copy = broken((o) => {
      const svc = services(o).find((s) => s.metadata.name === 'webhook-ingest');
      if (svc?.spec) svc.spec.selector = { 'app.kubernetes.io/name': 'webhooks' };
    });
    assert.deepEqual(serviceSelectorRule(copy), ['Service/webhook-ingest: selector matches no pod template']);
  });

  test('ConfigMaps: a password key, and a URL carrying a password', () => {
    const copy = broken((o) => {
      configOf(o, 'sync-service').data.DATABASE_PASSWORD = 'x';
      configOf(o, 'sync-service').data.DATABASE_URL = 'postgres://u:pw@db:5432/qbo';
    });
    assert.equal(configMapSecretsRule(copy).length, 2);
  });

  test('scaling: an HPA beside a ScaledObject, and replicas on an autoscaled Deployment', () => {
    const copy = broken((o) => {
      const hpa = structuredClone(hpas(o)[0]) as Hpa;
      hpa.metadata.name = 'token-service';
      if (hpa.spec) hpa.spec.scaleTargetRef.name = 'token-service';
      o.push(hpa as unknown as K8sObject);
      const spec = dep(o, 'auth-service').spec;
      if (spec) spec.replicas = 2;
    });
    const problems = scalingRule(copy).join('\n');
    assert.match(
      problems,
      /Deployment\/token-service: scaled by HorizontalPodAutoscaler\/token-service and ScaledObject/,
    );
    assert.match(problems, /Deployment\/auth-service: sets replicas/);
  });

  test('namespace: no default deny, no restricted label', () => {
    const copy = broken((o) => {
      const ns = o.find((x) => x.kind === 'Namespace');
      if (ns?.metadata.labels) delete ns.metadata.labels['pod-security.kubernetes.io/enforce'];
      o.splice(
        o.findIndex((x) => x.kind === 'NetworkPolicy' && x.metadata.name === 'default-deny'),
        1,
      );
    });
    assert.deepEqual(namespaceRule(copy), [
      'Namespace/qbo: pod-security.kubernetes.io/enforce is not restricted',
      'no default-deny NetworkPolicy (all pods, Ingress and Egress, no ingress rule)',
    ]);
  });

  test('network policies: a Deployment without its own', () => {
    const copy = broken((o) => {
      o.splice(
        o.findIndex((x) => x.kind === 'NetworkPolicy' && x.metadata.name === 'sync-service'),
        1,
      );
    });
    assert.deepEqual(networkPolicyRule(copy), ['Deployment/sync-service: no NetworkPolicy of its own']);
  });

  test('network policies: an egress rule with ports but no destinations', () => {
    const copy = broken((o) => {
      const policy = networkPolicies(o).find((p) => p.metadata.name === 'webhook-ingest');
      policy?.spec?.egress?.push({ ports: [{ protocol: 'TCP', port: 5432 }] });
    });
    const problems = networkPolicyRule(copy);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /NetworkPolicy\/webhook-ingest: egress rule \d+ allows every destination/,
    );
  });

  test('internet egress: webhook-ingest given 443, and a rule without the private exceptions', () => {
    const copy = broken((o) => {
      const policy = networkPolicies(o).find((p) => p.metadata.name === 'webhook-ingest');
      policy?.spec?.egress?.push({
        to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
        ports: [{ protocol: 'TCP', port: 443 }],
      });
    });
    const { allowed, problems } = internetEgress(copy);
    assert.deepEqual(allowed, [...INTERNET, 'webhook-ingest']);
    assert.match(
      problems.join('\n'),
      /NetworkPolicy\/webhook-ingest: 0.0.0.0\/0 does not except 10.0.0.0\/8/,
    );
  });

  test('topology spread: no node spread in prod, and a selector for other pods', () => {
    const copy = broken((o) => {
      const spec = podSpecOf(dep(o, 'auth-service'));
      spec.topologySpreadConstraints = (spec.topologySpreadConstraints ?? []).filter(
        (t) => t.topologyKey !== 'kubernetes.io/hostname',
      );
      const zone = spec.topologySpreadConstraints[0];
      if (zone) zone.labelSelector = { matchLabels: { 'app.kubernetes.io/name': 'token-service' } };
    });
    assert.deepEqual(spreadRule({ hostnameSpread: true })(copy), [
      'Deployment/auth-service: spread on topology.kubernetes.io/zone does not select its own pods',
      'Deployment/auth-service: no spread over nodes',
    ]);
  });

  test('secret files: a key the ExternalSecret does not fetch, a writable mount, a secret in the environment', () => {
    const copy = broken((o) => {
      const es = o.find(
        (x) => x.kind === 'ExternalSecret' && x.metadata.name === 'token-service-secrets',
      ) as K8sObject & {
        spec: { data: Array<{ secretKey: string }> };
      };
      es.spec.data = es.spec.data.filter((d) => d.secretKey !== 'TOKEN_KEYS');
      const c = app(o, 'sync-service');
      const mount = c.volumeMounts?.find((m) => m.name === 'secrets');
      if (mount) mount.readOnly = false;
      c.env?.push({
        name: 'X',
        valueFrom: { secretKeyRef: { name: 'sync-service-secrets', key: 'DATABASE_URL' } },
      });
    });
    assert.deepEqual(secretFilesRule(copy), [
      'Deployment/sync-service container app: X takes a secret into the environment',
      'Deployment/sync-service container app: secret volume secrets is not mounted read-only',
      'Deployment/token-service container app: TOKEN_KEYS_FILE reads TOKEN_KEYS, which Secret token-service-secrets does not hold',
    ]);
  });

  test('config: an undeclared variable, a missing required one, an invalid value', async () => {
    const problems = await envProblems(
      broken((o) => {
        // sync-service verifies no webhooks: the verifier tokens are webhook-ingest's.
        configOf(o, 'sync-service').data.WEBHOOK_VERIFIER_TOKENS = 'x';
        delete configOf(o, 'auth-service').data.QBO_CLIENT_ID;
        configOf(o, 'webhook-ingest').data.KAFKA_BROKERS = 'kafka-bootstrap.kafka.svc';
        app(o, 'token-service').env?.push({
          name: 'TOKEN_KEY_FILE',
          value: '/var/run/secrets/qbo/TOKEN_KEYS',
        });
      }),
    );
    assert.match(
      problems,
      /Deployment\/sync-service: sets WEBHOOK_VERIFIER_TOKENS, which sync-service's config does not declare/,
    );
    assert.match(problems, /Deployment\/auth-service: config refused: QBO_CLIENT_ID: is required/);
    assert.match(problems, /Deployment\/webhook-ingest: config refused: KAFKA_BROKERS: .*host:port/);
    assert.match(
      problems,
      /Deployment\/token-service: sets TOKEN_KEY_FILE, which token-service's config does not declare/,
    );
  });

  test('config: auth-service with PKCE off, or with no trusted proxy behind the ingress', async () => {
    const problems = await envProblems(
      broken((o) => {
        configOf(o, 'auth-service').data.QBO_PKCE = 'false';
        configOf(o, 'auth-service').data.TRUSTED_PROXY_CIDRS = '';
      }),
    );
    assert.match(problems, /Deployment\/auth-service: QBO_PKCE is off/);
    assert.match(problems, /Deployment\/auth-service: TRUSTED_PROXY_CIDRS is empty/);
  });

  test('config: metrics pushed over OTLP as well as scraped', async () => {
    const problems = await envProblems(
      broken((o) => {
        configOf(o, 'webhook-ingest').data.OTEL_EXPORTER_OTLP_ENDPOINT =
          'http://otel-collector.observability.svc:4318';
      }),
    );
    assert.match(
      problems,
      /Deployment\/webhook-ingest: metrics both scraped on METRICS_PORT and pushed over OTLP/,
    );
  });

  test('config: a secret set in the environment instead of a file', async () => {
    const problems = await envProblems(
      broken((o) => {
        const c = app(o, 'webhook-ingest');
        c.env = (c.env ?? []).filter((e) => e.name !== 'WEBHOOK_VERIFIER_TOKENS_FILE');
        c.env.push({ name: 'WEBHOOK_VERIFIER_TOKENS', value: 'sample-verifier-token-0123456789' });
      }),
    );
    assert.match(
      problems,
      /Deployment\/webhook-ingest: WEBHOOK_VERIFIER_TOKENS is a secret but comes from the environment/,
    );
  });

  test('config: the loopback default, ports the manifests do not name, a grace period too short', async () => {
    const problems = await envProblems(
      broken((o) => {
        delete configOf(o, 'sync-service').data.HOST;
        configOf(o, 'auth-service').data.PORT = '8081';
        podSpecOf(dep(o, 'token-service')).terminationGracePeriodSeconds = 30;
        const annotations = dep(o, 'webhook-ingest').spec?.template.metadata?.annotations;
        if (annotations) annotations['prometheus.io/port'] = '9090';
      }),
    );
    assert.match(
      problems,
      /Deployment\/webhook-ingest: Prometheus is told to scrape 9090, but METRICS_PORT is 9464/,
    );
    assert.match(problems, /Deployment\/sync-service: HOST is 127.0.0.1, not all addresses/);
    assert.match(problems, /Deployment\/auth-service: the service listens on 8081 but the http port is 8080/);
    assert.match(
      problems,
      /Deployment\/token-service: grace period 30 s does not outlast preStop 5 s \+ shutdown 45 s/,
    );
  });

  test('config: KEDA watching other brokers, and more consumers than partitions', async () => {
    const problems = await envProblems(
      broken((o) => {
        const so = scaledObjects(o).find((s) => s.metadata.name === 'token-service');
        const trigger = so?.spec.triggers[0];
        if (trigger) trigger.metadata.bootstrapServers = 'kafka.other.svc:9092';
        if (so) so.spec.maxReplicaCount = 24;
      }),
    );
    assert.match(problems, /ScaledObject\/token-service: maxReplicaCount 24 exceeds 12 partitions/);
    assert.match(problems, /ScaledObject\/token-service: watches kafka.other.svc:9092, but the service uses/);
  });
});
