import { machineMaintenanceDaily } from './machine-maintenance-daily.featureset.js';
import { productionEvents } from './production-events.featureset.js';
import { featureSetProblems, type FeatureSetSpec } from './spec.js';

/** Every registered feature set. Adding one is a spec file, a query in activities/features/queries.ts and a line here. */
export const FEATURE_SETS: readonly FeatureSetSpec[] = [machineMaintenanceDaily, productionEvents];

/** Looks a feature set up by id. */
export function getFeatureSet(id: string): FeatureSetSpec | undefined {
  return FEATURE_SETS.find((f) => f.id === id);
}

/** Throws when a registered feature set is invalid or two share an id. */
export function assertFeatureSetsValid(sets: readonly FeatureSetSpec[] = FEATURE_SETS): void {
  const problems = sets.flatMap(featureSetProblems);
  const ids = sets.map((s) => s.id);
  ids.filter((id, i) => ids.indexOf(id) !== i).forEach((id) => problems.push(`${id}: duplicate feature set id`));
  if (problems.length > 0) throw new Error(`invalid feature set registry: ${problems.join('; ')}`);
}
