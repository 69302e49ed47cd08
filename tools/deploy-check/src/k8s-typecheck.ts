import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type K8sObject, ref } from './k8s-render.js';
import { repoRoot } from './service-config.js';

/** The kubernetes-models interface of each kind with one; the secret operators' CRDs have their own check. */
const TYPES: Record<string, [module: string, type: string]> = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'INamespace'],
  'v1/ServiceAccount': ['kubernetes-models/v1/ServiceAccount', 'IServiceAccount'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'policy/v1/PodDisruptionBudget': [
    'kubernetes-models/policy/v1/PodDisruptionBudget',
    'IPodDisruptionBudget',
  ],
  'autoscaling/v2/HorizontalPodAutoscaler': [
    'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    'IHorizontalPodAutoscaler',
  ],
  'networking.k8s.io/v1/NetworkPolicy': [
    'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    'INetworkPolicy',
  ],
  'keda.sh/v1alpha1/ScaledObject': ['@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
  'keda.sh/v1alpha1/TriggerAuthentication': [
    '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
    'ITriggerAuthentication',
  ],
};

/**
 * Unknown fields, which the JSON-schema validation lets through (a misspelt `terminationGracePeriodSecond` is
 * silently dropped by the API server): each object is written as a TypeScript literal that must `satisfies` its
 * interface, and the compiler's excess-property check names a field the type does not have (the first one it
 * meets in each object).
 */
export function unknownFieldProblems(objects: readonly K8sObject[]): string[] {
  const typed = objects.filter((o) => TYPES[`${o.apiVersion}/${o.kind}`]);
  const used = [...new Set(typed.map((o) => `${o.apiVersion}/${o.kind}`))];
  const imports = used.map((key) => {
    const [module, type] = TYPES[key] as [string, string];
    return `import type { ${type} } from '${module}';`;
  });
  // One object per line, so a compiler error's line number names the object.
  const lines = typed.map((o, i) => {
    const [, type] = TYPES[`${o.apiVersion}/${o.kind}`] as [string, string];
    return `export const o${i} = ${JSON.stringify(o)} satisfies ${type};`;
  });
  // Under the package's build output (ignored by git and the linter), so the compiler resolves kubernetes-models
  // from the workspace's node_modules.
  const dir = mkdtempSync(join(repoRoot, 'tools', 'deploy-check', 'dist', '.k8s-typecheck-'));
  try {
    writeFileSync(join(dir, 'objects.ts'), [...imports, ...lines, ''].join('\n'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2024',
          types: [],
        },
        files: ['objects.ts'],
      }),
    );
    const run = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', dir, '--pretty', 'false'], {
      encoding: 'utf8',
    });
    if (run.error) throw run.error;
    if (run.status === 0) return [];
    const errors = run.stdout.split('\n').filter((l) => l.includes('error TS'));
    if (errors.length === 0) throw new Error(`tsc failed without diagnostics: ${run.stdout}${run.stderr}`);
    return errors.map((line) => {
      const at = /objects\.ts\((\d+),\d+\): error (TS\d+: .*)$/.exec(line);
      const object = at ? typed[Number(at[1]) - imports.length - 1] : undefined;
      return object && at ? `${ref(object)}: ${at[2]}` : line;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
