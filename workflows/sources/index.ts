import { maintenanceEvents } from './maintenance-events.source.js';
import { productCatalog } from './product-catalog.source.js';
import { sourceSpecProblems, type SourceSpec } from './spec.js';

/** Every registered source. Adding a source is one spec file, one line here and a migration for its target tables. */
export const SOURCES: readonly SourceSpec[] = [maintenanceEvents, productCatalog];

/** Looks a source up by id. */
export function getSource(id: string): SourceSpec | undefined {
  return SOURCES.find((s) => s.id === id);
}

/** Workflow id of a source's sync: one business id, so two syncs of a source never run at once. */
export function sourceSyncWorkflowId(sourceId: string): string {
  return `source-sync:${sourceId}`;
}

/** Schedule id of a source's periodic sync. */
export function sourceScheduleId(sourceId: string): string {
  return `source:${sourceId}`;
}

/**
 * Throws when a registered spec is invalid, two share an id, two share a target table, or one connection setting is
 * used by sources of different kinds (run at worker start-up and by a test).
 */
export function assertSourcesValid(sources: readonly SourceSpec[] = SOURCES): void {
  const problems = sources.flatMap(sourceSpecProblems);
  const dup = (values: string[], what: string) =>
    values.filter((v, i) => values.indexOf(v) !== i).forEach((v) => problems.push(`${v}: duplicate ${what}`));
  dup(
    sources.map((s) => s.id),
    'source id',
  );
  dup(
    sources.flatMap((s) => [s.target.table, ...(s.target.versions ? [s.target.versions] : [])]),
    'target table',
  );
  for (const s of sources) {
    const other = sources.find((o) => o.connection === s.connection && o.kind !== s.kind);
    if (other) problems.push(`${s.id}: ${s.connection} is also the connection of ${other.kind} source ${other.id}`);
  }
  if (problems.length > 0) throw new Error(`invalid source registry: ${problems.join('; ')}`);
}
