import { imageTag, SECRET_NAME, urlWithPassword } from './common-rules.js';
import {
  type Container,
  configMaps,
  type Deployment,
  deployments,
  hpas,
  type NetworkPolicy,
  networkPolicies,
  pdbs,
  podLabelsOf,
  podSpecOf,
  scaledObjects,
  selects,
  services,
} from './k8s-objects.js';
import { isObject, type K8sObject, ref } from './k8s-render.js';

/**
 * The house rules for rendered manifests (deploy/k8s/README.md), in place of kube-linter and kube-score, which
 * are Go binaries this build cannot fetch. Each rule returns its problems; none means it holds.
 */
export type Rule = (objects: readonly K8sObject[]) => string[];

const containersOf = (d: Deployment): Array<[string, Container]> =>
  podSpecOf(d).containers.map((c) => [`${ref(d)} container ${c.name}`, c]);

/** Every container asks for CPU and memory and is capped on memory; a CPU limit is left out on purpose. */
export const resourcesRule: Rule = (objects) =>
  deployments(objects).flatMap((d) =>
    containersOf(d).flatMap(([where, c]) => {
      const problems: string[] = [];
      if (c.resources?.requests?.cpu === undefined) problems.push(`${where}: no CPU request`);
      if (c.resources?.requests?.memory === undefined) problems.push(`${where}: no memory request`);
      if (c.resources?.limits?.memory === undefined) problems.push(`${where}: no memory limit`);
      return problems;
    }),
  );

/**
 * Startup, readiness and liveness probes, all httpGet (the services answer them themselves; an exec probe
 * would start a process in the container every period), on a port the container declares: readiness on /readyz (database and Kafka), liveness on /healthz (the event loop only, so
 * a broker outage never restarts every pod), startup on either.
 */
export const probesRule: Rule = (objects) =>
  deployments(objects).flatMap((d) =>
    containersOf(d).flatMap(([where, c]) => {
      const ports = new Set<string | number>(
        (c.ports ?? []).flatMap((p) => (p.name ? [p.containerPort, p.name] : [p.containerPort])),
      );
      const expect = [
        ['startupProbe', c.startupProbe, ['/healthz', '/readyz']],
        ['readinessProbe', c.readinessProbe, ['/readyz']],
        ['livenessProbe', c.livenessProbe, ['/healthz']],
      ] as const;
      return expect.flatMap(([name, probe, paths]) => {
        if (!probe) return [`${where}: no ${name}`];
        const get = probe.httpGet;
        if (!get) return [`${where}: ${name} is not an httpGet probe`];
        const problems: string[] = [];
        if (!(paths as readonly string[]).includes(get.path ?? '')) {
          problems.push(`${where}: ${name} checks ${get.path ?? '/'}, expected ${paths.join(' or ')}`);
        }
        if (!ports.has(get.port))
          problems.push(`${where}: ${name} port ${String(get.port)} is not a container port`);
        return problems;
      });
    }),
  );

/** The image's `node` user. Numeric, or the kubelet cannot prove the user is not root. */
export const APP_UID = 1000;

/** The restricted Pod Security profile plus a read-only root filesystem. */
export const securityContextRule: Rule = (objects) =>
  deployments(objects).flatMap((d) => {
    const spec = podSpecOf(d);
    const pod = spec.securityContext ?? {};
    const where = ref(d);
    const problems: string[] = [];
    if (pod.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot is not true`);
    if (pod.runAsUser !== APP_UID) problems.push(`${where}: pod runAsUser must be the numeric ${APP_UID}`);
    if (pod.runAsGroup !== APP_UID) problems.push(`${where}: pod runAsGroup must be the numeric ${APP_UID}`);
    if (pod.fsGroup !== APP_UID)
      problems.push(`${where}: pod fsGroup must be ${APP_UID} (secret files are group-readable)`);
    if (pod.seccompProfile?.type !== 'RuntimeDefault')
      problems.push(`${where}: pod seccompProfile is not RuntimeDefault`);
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${where}: uses a host namespace`);
    for (const [at, c] of containersOf(d)) {
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${at}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL'))
        problems.push(`${at}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${at}: adds capabilities`);
      if (sc.privileged) problems.push(`${at}: is privileged`);
      if (sc.runAsUser !== undefined && sc.runAsUser !== APP_UID) problems.push(`${at}: overrides runAsUser`);
      if (sc.runAsNonRoot === false) problems.push(`${at}: overrides runAsNonRoot`);
    }
    return problems;
  });

/** With a read-only root filesystem, /tmp must be a writable emptyDir. */
export const tmpRule: Rule = (objects) =>
  deployments(objects).flatMap((d) => {
    const volumes = new Map((podSpecOf(d).volumes ?? []).map((v) => [v.name, v]));
    return containersOf(d).flatMap(([where, c]) => {
      const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
      if (!mount) return [`${where}: /tmp is not mounted`];
      if (mount.readOnly) return [`${where}: /tmp is mounted read-only`];
      return volumes.get(mount.name)?.emptyDir ? [] : [`${where}: /tmp is not an emptyDir volume`];
    });
  });

/** The image's CMD is the service's start command (`node --import ./dist/telemetry.js dist/main.js` in its folder). */
export const startCommandRule: Rule = (objects) =>
  deployments(objects).flatMap((d) =>
    containersOf(d).flatMap(([where, c]) =>
      (['command', 'args', 'workingDir'] as const)
        .filter((f) => c[f] !== undefined)
        .map((f) => `${where}: sets ${f}, overriding the image's start command`),
    ),
  );

/** Nothing here calls the Kubernetes API, so no pod carries an API token. */
export const serviceAccountRule: Rule = (objects) => {
  const accounts = new Map(
    objects
      .filter((o) => o.kind === 'ServiceAccount')
      .map((o) => [o.metadata.name, o.automountServiceAccountToken]),
  );
  const problems = [...accounts]
    .filter(([, automount]) => automount !== false)
    .map(([name]) => `ServiceAccount/${name}: automountServiceAccountToken is not false`);
  for (const d of deployments(objects)) {
    const spec = podSpecOf(d);
    const where = ref(d);
    if (spec.automountServiceAccountToken !== false)
      problems.push(`${where}: automountServiceAccountToken is not false`);
    if (!spec.serviceAccountName || !accounts.has(spec.serviceAccountName)) {
      problems.push(
        `${where}: serviceAccountName ${spec.serviceAccountName ?? '(default)'} is not rendered here`,
      );
    }
  }
  return problems;
};

const DIGEST = /@sha256:[0-9a-f]{64}$/;

/**
 * No `latest` and no untagged image (which means latest) anywhere; with `digests`, every image is pinned by
 * digest, so what runs is exactly what was built and scanned.
 */
export const imagesRule =
  ({ digests }: { digests: boolean }): Rule =>
  (objects) =>
    deployments(objects).flatMap((d) =>
      containersOf(d).flatMap(([where, c]) => {
        const image = c.image ?? '';
        if (DIGEST.test(image)) return [];
        if (digests) return [`${where}: image ${image} is not pinned by digest`];
        const tag = imageTag(image);
        if (tag === undefined) return [`${where}: image ${image} has no tag (that is latest)`];
        return tag === 'latest' ? [`${where}: image ${image} uses the latest tag`] : [];
      }),
    );

/** Exactly one PodDisruptionBudget selects each Deployment's pods. */
export const pdbRule: Rule = (objects) =>
  deployments(objects).flatMap((d) => {
    const matching = pdbs(objects).filter((p) => selects(p.spec?.selector, podLabelsOf(d)));
    return matching.length === 1
      ? []
      : [`${ref(d)}: ${matching.length} PodDisruptionBudgets select its pods, expected 1`];
  });

/** Every Service selects some Deployment's pods, and each target port is one those pods declare. */
export const serviceSelectorRule: Rule = (objects) =>
  services(objects).flatMap((s) => {
    const where = ref(s);
    const selector = s.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return [`${where}: has no selector`];
    const targets = deployments(objects).filter((d) => selects({ matchLabels: selector }, podLabelsOf(d)));
    if (targets.length === 0) return [`${where}: selector matches no pod template`];
    return (s.spec?.ports ?? []).flatMap((p) => {
      const target = p.targetPort ?? p.port;
      const declared = targets.every((d) =>
        podSpecOf(d).containers.some((c) =>
          (c.ports ?? []).some((cp) => cp.name === target || cp.containerPort === target),
        ),
      );
      return declared ? [] : [`${where}: targetPort ${String(target)} is not a port of its pods`];
    });
  });

/**
 * Names that match the pattern but hold none: the token-service's address and timeout. The config check
 * (k8s-service-env) proves none of them is a secret-typed variable of the service that reads it.
 */
export const NOT_SECRET = new Set(['TOKEN_SERVICE_URL', 'TOKEN_SERVICE_TIMEOUT_MS']);

/** ConfigMaps hold settings only: no secret-looking key, and no URL carrying a password. */
export const configMapSecretsRule: Rule = (objects) =>
  configMaps(objects).flatMap((c) =>
    Object.entries(c.data ?? {}).flatMap(([key, value]) => {
      const where = `${ref(c)} ${key}`;
      if (SECRET_NAME.test(key) && !NOT_SECRET.has(key))
        return [`${where}: looks like a secret; mount it from a Secret`];
      return urlWithPassword(value) ? [`${where}: the URL carries a password; mount it from a Secret`] : [];
    }),
  );

/**
 * One autoscaler per Deployment: KEDA creates and owns an HPA of its own, so an HPA beside a ScaledObject
 * fights it. An autoscaled Deployment sets no `replicas`, or every apply resets the autoscaler's count.
 */
export const scalingRule: Rule = (objects) => {
  const names = new Set(deployments(objects).map((d) => d.metadata.name));
  const byHpa = hpas(objects).map((h) => [ref(h), h.spec?.scaleTargetRef] as const);
  const bySo = scaledObjects(objects).map((s) => [ref(s), s.spec.scaleTargetRef] as const);
  const problems: string[] = [];
  const scaled = new Map<string, string[]>();
  for (const [where, target] of [...byHpa, ...bySo]) {
    if (!target || (target.kind ?? 'Deployment') !== 'Deployment' || !names.has(target.name)) {
      problems.push(`${where}: its target is not a Deployment rendered here`);
      continue;
    }
    scaled.set(target.name, [...(scaled.get(target.name) ?? []), where]);
  }
  for (const [name, owners] of scaled) {
    if (owners.length > 1) problems.push(`Deployment/${name}: scaled by ${owners.join(' and ')}`);
  }
  for (const d of deployments(objects)) {
    if (scaled.has(d.metadata.name) && d.spec?.replicas !== undefined) {
      problems.push(`${ref(d)}: sets replicas although ${scaled.get(d.metadata.name)?.join(', ')} scales it`);
    }
  }
  return problems;
};

/** The namespace enforces the restricted profile and denies all traffic that no policy allows. */
export const namespaceRule: Rule = (objects) => {
  const problems: string[] = [];
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  if (namespaces.length !== 1) return [`${namespaces.length} Namespaces rendered, expected 1`];
  const ns = namespaces[0] as K8sObject;
  if (ns.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') {
    problems.push(`${ref(ns)}: pod-security.kubernetes.io/enforce is not restricted`);
  }
  for (const o of objects) {
    if (o !== ns && o.metadata.namespace !== ns.metadata.name)
      problems.push(`${ref(o)}: not in namespace ${ns.metadata.name}`);
  }
  const denyAll = networkPolicies(objects).some(isDefaultDeny);
  if (!denyAll)
    problems.push('no default-deny NetworkPolicy (all pods, Ingress and Egress, no ingress rule)');
  return problems;
};

/** All pods, both directions, no ingress at all, and egress to port 53 only (DNS). */
function isDefaultDeny(p: NetworkPolicy): boolean {
  const spec = p.spec;
  if (!spec) return false;
  const allPods =
    Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 && !spec.podSelector?.matchExpressions;
  const types = spec.policyTypes ?? [];
  const dnsOnly = (spec.egress ?? []).every(
    (rule) => (rule.ports ?? []).length > 0 && (rule.ports ?? []).every((port) => port.port === 53),
  );
  return (
    allPods &&
    types.includes('Ingress') &&
    types.includes('Egress') &&
    (spec.ingress ?? []).length === 0 &&
    dnsOnly
  );
}

/** Private, shared and link-local ranges (the last holds cloud metadata endpoints). */
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'];

/**
 * The Deployments whose pods may reach the internet on 443 (Intuit): some NetworkPolicy selecting them allows
 * egress to 0.0.0.0/0. Any such rule must also except the private ranges, so "the internet" never includes
 * the cluster or the metadata endpoint.
 */
export function internetEgress(objects: readonly K8sObject[]): { allowed: string[]; problems: string[] } {
  const problems: string[] = [];
  const allowed = deployments(objects)
    .filter((d) =>
      networkPolicies(objects)
        .filter((p) => selects(p.spec?.podSelector, podLabelsOf(d)))
        .some((p) =>
          (p.spec?.egress ?? []).some((rule) => {
            const ports = rule.ports ?? [];
            if (ports.length > 0 && !ports.some((port) => port.port === 443)) return false;
            const peers = rule.to ?? [];
            if (peers.length === 0) {
              problems.push(`${ref(p)}: allows 443 to every destination, private ranges included`);
              return true;
            }
            const open = peers.filter((peer) => peer.ipBlock?.cidr === '0.0.0.0/0');
            for (const peer of open) {
              const missing = PRIVATE.filter((r) => !(peer.ipBlock?.except ?? []).includes(r));
              if (missing.length > 0)
                problems.push(`${ref(p)}: 0.0.0.0/0 does not except ${missing.join(', ')}`);
            }
            return open.length > 0;
          }),
        ),
    )
    .map((d) => d.metadata.name)
    .sort();
  return { allowed, problems };
}

/**
 * Each Deployment's pods are selected by a policy of their own, beyond the default deny, and every egress rule
 * names its destinations: a rule with ports only would open those ports to the whole internet.
 */
export const networkPolicyRule: Rule = (objects) => [
  ...deployments(objects).flatMap((d) =>
    networkPolicies(objects).some((p) => !isDefaultDeny(p) && selects(p.spec?.podSelector, podLabelsOf(d)))
      ? []
      : [`${ref(d)}: no NetworkPolicy of its own`],
  ),
  ...networkPolicies(objects).flatMap((p) =>
    (p.spec?.egress ?? []).flatMap((rule, i) =>
      (rule.to ?? []).length > 0 ? [] : [`${ref(p)}: egress rule ${i + 1} allows every destination`],
    ),
  ),
];

/**
 * Topology spread constraints count the Deployment's own pods (a selector matching nothing spreads nothing),
 * and with `hostnameSpread` there is one on kubernetes.io/hostname besides the zone.
 */
export const spreadRule =
  ({ hostnameSpread }: { hostnameSpread: boolean }): Rule =>
  (objects) =>
    deployments(objects).flatMap((d) => {
      const where = ref(d);
      const constraints = podSpecOf(d).topologySpreadConstraints ?? [];
      const problems = constraints
        .filter((t) => !selects(t.labelSelector, podLabelsOf(d)))
        .map((t) => `${where}: spread on ${t.topologyKey} does not select its own pods`);
      const keys = constraints.map((t) => t.topologyKey);
      if (!keys.includes('topology.kubernetes.io/zone')) problems.push(`${where}: no spread over zones`);
      if (hostnameSpread && !keys.includes('kubernetes.io/hostname'))
        problems.push(`${where}: no spread over nodes`);
      return problems;
    });

/**
 * Secrets reach a pod only as read-only files: every secret volume is mounted read-only, and its Secret is
 * one the render produces (ExternalSecret target or SealedSecret) with every key a `*_FILE` variable names.
 */
export const secretFilesRule: Rule = (objects) => {
  const provided = secretKeysProvided(objects);
  return deployments(objects).flatMap((d) => {
    const spec = podSpecOf(d);
    const problems: string[] = [];
    const secretVolumes = new Map(
      (spec.volumes ?? []).flatMap((v) => (v.secret ? [[v.name, v.secret.secretName ?? ''] as const] : [])),
    );
    for (const [where, c] of containersOf(d)) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef)
          problems.push(`${where}: ${e.name} takes a secret into the environment`);
      }
      for (const from of c.envFrom ?? []) {
        if (from.secretRef)
          problems.push(`${where}: envFrom loads Secret ${from.secretRef.name} into the environment`);
      }
      for (const mount of c.volumeMounts ?? []) {
        const secretName = secretVolumes.get(mount.name);
        if (secretName === undefined) continue;
        if (mount.readOnly !== true)
          problems.push(`${where}: secret volume ${mount.name} is not mounted read-only`);
        const keys = provided.get(secretName);
        if (!keys) {
          problems.push(
            `${where}: Secret ${secretName} is produced by no ExternalSecret or SealedSecret here`,
          );
          continue;
        }
        for (const e of c.env ?? []) {
          if (!e.name.endsWith('_FILE') || !e.value?.startsWith(`${mount.mountPath}/`)) continue;
          const key = e.value.slice(mount.mountPath.length + 1);
          if (!keys.has(key))
            problems.push(`${where}: ${e.name} reads ${key}, which Secret ${secretName} does not hold`);
        }
      }
    }
    return problems;
  });
};

/** Secret name → the keys it will hold, from the operators' objects in the render. */
export function secretKeysProvided(objects: readonly K8sObject[]): Map<string, Set<string>> {
  const provided = new Map<string, Set<string>>();
  for (const o of objects) {
    const spec = isObject(o.spec) ? o.spec : {};
    if (o.kind === 'ExternalSecret') {
      const target =
        isObject(spec.target) && typeof spec.target.name === 'string' ? spec.target.name : o.metadata.name;
      const keys = (Array.isArray(spec.data) ? spec.data : []).map((e: unknown) =>
        isObject(e) ? String(e.secretKey) : '',
      );
      provided.set(target, new Set(keys));
    } else if (o.kind === 'SealedSecret') {
      provided.set(
        o.metadata.name,
        new Set(Object.keys(isObject(spec.encryptedData) ? spec.encryptedData : {})),
      );
    }
  }
  return provided;
}

/** The rules every overlay must pass; production adds digests and the node spread. */
export function rulesFor(overlay: string): Array<[string, Rule]> {
  const prod = overlay === 'prod';
  return [
    ['resources', resourcesRule],
    ['probes', probesRule],
    ['securityContext', securityContextRule],
    ['/tmp emptyDir', tmpRule],
    ['start command', startCommandRule],
    ['service accounts', serviceAccountRule],
    ['images', imagesRule({ digests: prod })],
    ['disruption budgets', pdbRule],
    ['service selectors', serviceSelectorRule],
    ['no secrets in ConfigMaps', configMapSecretsRule],
    ['one autoscaler per Deployment', scalingRule],
    ['namespace and default deny', namespaceRule],
    ['a NetworkPolicy per Deployment', networkPolicyRule],
    ['topology spread', spreadRule({ hostnameSpread: prod })],
    ['secrets as read-only files', secretFilesRule],
  ];
}
