import { datasetProblems, type DatasetSpec } from './spec.js';

const DATASETS = new Map<string, DatasetSpec>();

/** Registers datasets (a flow's code, or a declaration folder's `datasets.json`); a name is registered once. */
export function registerDatasets(datasets: readonly DatasetSpec[]): void {
  for (const d of datasets) {
    const problems = datasetProblems(d);
    if (problems.length > 0) throw new Error(`invalid dataset declaration: ${problems.join('; ')}`);
    const known = DATASETS.get(d.name);
    if (known && JSON.stringify(known) !== JSON.stringify(d)) throw new Error(`dataset ${d.name} is declared twice`);
    DATASETS.set(d.name, d);
  }
}

/** A declared dataset, or undefined. */
export function findDataset(name: string): DatasetSpec | undefined {
  return DATASETS.get(name);
}

/** A declared dataset, or an error naming it. */
export function datasetOf(name: string): DatasetSpec {
  const d = DATASETS.get(name);
  if (!d) throw new Error(`dataset ${name} is not declared`);
  return d;
}

/** Every declared dataset. */
export function allDatasets(): DatasetSpec[] {
  return [...DATASETS.values()];
}
