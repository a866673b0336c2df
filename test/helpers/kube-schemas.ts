import { parseAllDocuments } from 'yaml';

type Validatable = { validate(): void };
type Model = new (data: unknown) => Validatable;

const cache = new Map<string, Model | null>();

/** The published schema model of an apiVersion/kind (kubernetes-models and its Argo CD / Istio packages). */
async function modelFor(apiVersion: string, kind: string): Promise<Model | null> {
  const key = `${apiVersion}/${kind}`;
  if (cache.has(key)) return cache.get(key)!;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const candidates =
    group === ''
      ? [`kubernetes-models/${version}/${kind}`]
      : group === 'argoproj.io'
        ? [`@kubernetes-models/argo-cd/${group}/${version}/${kind}`]
        : group!.endsWith('istio.io')
          ? [`@kubernetes-models/istio/${group}/${version}/${kind}`]
          : [`kubernetes-models/${group}/${version}/${kind}`];
  let model: Model | null = null;
  for (const specifier of candidates) {
    try {
      const module = (await import(specifier)) as Record<string, unknown>;
      model = (module[kind] as Model | undefined) ?? null;
      if (model) break;
    } catch {
      // not published for this kind: the caller reports it as unvalidated
    }
  }
  cache.set(key, model);
  return model;
}

export interface SchemaReport {
  readonly validated: string[];
  readonly unvalidated: string[];
  readonly errors: string[];
}

/** Validates every Kubernetes object of the given YAML files against the published schemas. */
export async function validateYamlFiles(files: ReadonlyArray<{ path: string; content: string }>): Promise<SchemaReport> {
  const report: SchemaReport = { validated: [], unvalidated: [], errors: [] };
  for (const { path, content } of files) {
    if (!/\.ya?ml$/.test(path) || /kustomization\.ya?ml$/.test(path)) continue;
    for (const document of parseAllDocuments(content)) {
      if (document.errors.length > 0) {
        report.errors.push(`${path}: ${document.errors[0]!.message}`);
        continue;
      }
      const object = document.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | null;
      if (!object?.apiVersion || !object.kind) continue;
      const label = `${path}: ${object.kind} ${object.metadata?.name}`;
      const model = await modelFor(object.apiVersion, object.kind);
      if (!model) {
        report.unvalidated.push(label);
        continue;
      }
      try {
        new model(object).validate();
        report.validated.push(label);
      } catch (error) {
        report.errors.push(`${label}: ${(error as Error).message}`);
      }
    }
  }
  return report;
}
