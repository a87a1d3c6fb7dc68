import { specProblems, type PipelineSpec } from '../spec.js';
import { factoryMachineSignals } from './factory-machine-signals.pipeline.js';

/** Every registered pipeline. Adding a pipeline is one spec file plus one line here. */
export const PIPELINES: readonly PipelineSpec[] = [factoryMachineSignals];

/** Looks a pipeline up by id. */
export function getPipeline(id: string): PipelineSpec | undefined {
  return PIPELINES.find((p) => p.id === id);
}

/** Throws when a registered spec is invalid or two share an id (run at worker and API start-up, and by a test). */
export function assertRegistryValid(pipelines: readonly PipelineSpec[] = PIPELINES): void {
  const problems = pipelines.flatMap(specProblems);
  const ids = pipelines.map((p) => p.id);
  ids.filter((id, i) => ids.indexOf(id) !== i).forEach((id) => problems.push(`${id}: duplicate pipeline id`));
  if (problems.length > 0) throw new Error(`invalid pipeline registry: ${problems.join('; ')}`);
}
