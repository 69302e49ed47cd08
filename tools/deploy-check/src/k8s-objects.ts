import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { K8sObject } from './k8s-render.js';

/** Typed views of rendered objects; the schema check has already validated their shapes. */
type Named<T> = T & { metadata: { name: string; namespace?: string; labels?: Record<string, string> } };
export type Deployment = Named<IDeployment>;
export type Service = Named<IService>;
export type ConfigMap = Named<IConfigMap>;
export type Pdb = Named<IPodDisruptionBudget>;
export type Hpa = Named<IHorizontalPodAutoscaler>;
export type NetworkPolicy = Named<INetworkPolicy>;
export type ScaledObject = Named<IScaledObject>;
export type Container = IContainer;
export type PodSpec = IPodSpec;

const ofKind =
  <T>(kind: string) =>
  (objects: readonly K8sObject[]): T[] =>
    objects.filter((o) => o.kind === kind) as unknown as T[];

export const deployments = ofKind<Deployment>('Deployment');
export const services = ofKind<Service>('Service');
export const configMaps = ofKind<ConfigMap>('ConfigMap');
export const pdbs = ofKind<Pdb>('PodDisruptionBudget');
export const hpas = ofKind<Hpa>('HorizontalPodAutoscaler');
export const networkPolicies = ofKind<NetworkPolicy>('NetworkPolicy');
export const scaledObjects = ofKind<ScaledObject>('ScaledObject');

export const podSpecOf = (d: Deployment): PodSpec => d.spec?.template.spec ?? { containers: [] };
export const podLabelsOf = (d: Deployment): Record<string, string> => d.spec?.template.metadata?.labels ?? {};

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** Label-selector semantics: every matchLabels pair and every expression must hold. An empty selector matches all. */
export function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const pairs = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const expressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
  return pairs && expressions;
}

/** The ConfigMaps an object's containers load with envFrom, by their rendered (hashed) names. */
export function configMapByName(objects: readonly K8sObject[]): Map<string, ConfigMap> {
  return new Map(configMaps(objects).map((c) => [c.metadata.name, c]));
}
