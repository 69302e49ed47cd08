import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { isObject, type K8sObject, ref } from './k8s-render.js';

type Validator = (o: K8sObject) => string[];

/** Runs a kubernetes-models class's JSON-schema validation (types, required fields, quantity formats). */
const model =
  (Model: new (data: never) => { validate(): void }): Validator =>
  (o) => {
    try {
      new Model(o as never).validate();
      return [];
    } catch (err) {
      return [`${ref(o)}: ${err instanceof Error ? err.message : String(err)}`];
    }
  };

/**
 * Every kind the overlays may render. A kind missing here fails the check, so a new kind cannot slip through
 * unvalidated. The two secret operators' CRDs have no usable npm models (external-secrets.io/v1 is newer than
 * @kubernetes-models/external-secrets), so they are checked by hand against their documented fields.
 */
const validators: Record<string, Validator> = {
  'v1/Namespace': model(Namespace),
  'v1/ServiceAccount': model(ServiceAccount),
  'v1/ConfigMap': model(ConfigMap),
  'v1/Service': model(Service),
  'apps/v1/Deployment': model(Deployment),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'autoscaling/v2/HorizontalPodAutoscaler': model(HorizontalPodAutoscaler),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'keda.sh/v1alpha1/ScaledObject': model(ScaledObject),
  'keda.sh/v1alpha1/TriggerAuthentication': model(TriggerAuthentication),
  'external-secrets.io/v1/ExternalSecret': externalSecretProblems,
  'bitnami.com/v1alpha1/SealedSecret': sealedSecretProblems,
};

export function schemaProblems(objects: readonly K8sObject[]): string[] {
  return objects.flatMap((o) => {
    const validate = validators[`${o.apiVersion}/${o.kind}`];
    return validate ? validate(o) : [`${ref(o)}: no validator for ${o.apiVersion} ${o.kind}`];
  });
}

function unknownFields(where: string, value: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(value)
    .filter((k) => !allowed.includes(k))
    .map((k) => `${where}: unknown field ${k}`);
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** external-secrets.io/v1 ExternalSecret, as far as these manifests use it. */
function externalSecretProblems(o: K8sObject): string[] {
  const where = ref(o);
  const spec = o.spec;
  if (!isObject(spec)) return [`${where}: spec is missing`];
  const problems = unknownFields(`${where} spec`, spec, [
    'refreshInterval',
    'refreshPolicy',
    'secretStoreRef',
    'target',
    'data',
    'dataFrom',
  ]);
  if (
    spec.refreshInterval !== undefined &&
    !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(String(spec.refreshInterval))
  ) {
    problems.push(`${where}: refreshInterval ${String(spec.refreshInterval)} is not a duration`);
  }
  if (
    spec.refreshPolicy !== undefined &&
    !['Periodic', 'CreatedOnce', 'OnChange'].includes(String(spec.refreshPolicy))
  ) {
    problems.push(`${where}: refreshPolicy must be Periodic, CreatedOnce or OnChange`);
  }
  const store = spec.secretStoreRef;
  if (!isObject(store) || !nonEmptyString(store.name)) {
    problems.push(`${where}: secretStoreRef.name is required`);
  } else if (
    store.kind !== undefined &&
    !['SecretStore', 'ClusterSecretStore'].includes(String(store.kind))
  ) {
    problems.push(`${where}: secretStoreRef.kind must be SecretStore or ClusterSecretStore`);
  }
  const target = spec.target;
  if (!isObject(target) || !nonEmptyString(target.name)) problems.push(`${where}: target.name is required`);
  else if (
    target.creationPolicy !== undefined &&
    !['Owner', 'Orphan', 'Merge', 'None'].includes(String(target.creationPolicy))
  ) {
    problems.push(`${where}: target.creationPolicy must be Owner, Orphan, Merge or None`);
  }
  if (!Array.isArray(spec.data) || spec.data.length === 0) {
    problems.push(`${where}: data must list the secret's keys`);
    return problems;
  }
  const seen = new Set<string>();
  for (const [i, entry] of (spec.data as unknown[]).entries()) {
    const at = `${where} data[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at}: not an object`);
      continue;
    }
    problems.push(...unknownFields(at, entry, ['secretKey', 'remoteRef', 'sourceRef']));
    if (!nonEmptyString(entry.secretKey)) problems.push(`${at}: secretKey is required`);
    else if (seen.has(entry.secretKey)) problems.push(`${at}: secretKey ${entry.secretKey} appears twice`);
    else seen.add(entry.secretKey);
    if (!isObject(entry.remoteRef) || !nonEmptyString(entry.remoteRef.key)) {
      problems.push(`${at}: remoteRef.key is required`);
    }
  }
  return problems;
}

/** bitnami.com/v1alpha1 SealedSecret: what `kubeseal --format yaml` writes. */
function sealedSecretProblems(o: K8sObject): string[] {
  const where = ref(o);
  const spec = o.spec;
  if (!isObject(spec)) return [`${where}: spec is missing`];
  const problems = unknownFields(`${where} spec`, spec, ['encryptedData', 'template']);
  const data = spec.encryptedData;
  if (!isObject(data) || Object.keys(data).length === 0) {
    problems.push(`${where}: encryptedData must hold the sealed keys`);
  } else {
    for (const [key, value] of Object.entries(data)) {
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) problems.push(`${where}: ${key} is not a valid Secret key`);
      if (!nonEmptyString(value)) problems.push(`${where}: encryptedData.${key} must be a sealed string`);
    }
  }
  const template = spec.template;
  if (template !== undefined) {
    if (!isObject(template)) return [...problems, `${where}: template must be an object`];
    problems.push(...unknownFields(`${where} template`, template, ['metadata', 'type', 'immutable', 'data']));
    // The controller refuses to unseal into a Secret of another name than the SealedSecret's.
    const meta = template.metadata;
    if (isObject(meta) && meta.name !== undefined && meta.name !== o.metadata.name) {
      problems.push(`${where}: template.metadata.name must equal metadata.name`);
    }
  }
  return problems;
}
