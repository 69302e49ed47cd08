import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './service-config.js';

/** A rendered object: every check reads it through its `kind`, so the body stays loosely typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export const k8sDir = join(repoRoot, 'deploy', 'k8s');

/** kubectl's built-in kustomize (v5 in kubectl 1.27+; Debian's kubernetes-client 1.20 is too old for components). */
const KUBECTL = 'kubectl';

export function overlayNames(dir: string = k8sDir): string[] {
  return readdirSync(join(dir, 'overlays'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/**
 * Renders one kustomization offline. A warning on stderr fails too: kustomize warns about deprecated fields
 * (`commonLabels` rewriting immutable selectors, for one) and still exits 0.
 */
export function render(kustomization: string): K8sObject[] {
  const run = spawnSync(KUBECTL, ['kustomize', kustomization], { encoding: 'utf8' });
  if (run.error) throw run.error;
  if (run.status !== 0 || run.stderr.trim() !== '') {
    throw new Error(`kubectl kustomize ${kustomization} failed (exit ${run.status}): ${run.stderr.trim()}`);
  }
  return parseObjects(run.stdout, kustomization);
}

export function parseObjects(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source} document ${i}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null) return [];
    if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
      throw new Error(`${source} document ${i} is not a Kubernetes object`);
    }
    const metadata = value.metadata;
    if (!isObject(metadata) || typeof metadata.name !== 'string') {
      throw new Error(`${source} document ${i} (${value.kind}) has no metadata.name`);
    }
    return [value as K8sObject];
  });
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Kind/name`, how every problem names its object. */
export const ref = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;
