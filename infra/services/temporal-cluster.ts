import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { PARTITION, PIPELINE, PIPELINE_STATUS, RUN_KIND } from '../../workflows/search-attributes.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** gRPC status codes this module tells apart. */
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const UNAVAILABLE = 14;

/** The gRPC status code of a failed call (undefined for any other error). */
function grpcCode(err: unknown): number | undefined {
  return isGrpcServiceError(err) ? err.code : undefined;
}

/** The custom search attributes every Fábrica run carries (workflows/search-attributes.ts); a cluster must have them. */
export const FABRICA_SEARCH_ATTRIBUTES = [PIPELINE, PARTITION, RUN_KIND, PIPELINE_STATUS] as const;

/** Options for {@link prepareTemporalCluster}. */
export interface PrepareClusterOptions {
  namespace: string;
  /** How long Temporal keeps a closed run's history (default 30 days); only used when registering the namespace. */
  retentionDays?: number;
  /** How long to wait for a new namespace and new attributes to become usable (default 120 s). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What {@link prepareTemporalCluster} found and did. */
export interface PrepareClusterReport {
  namespaceRegistered: boolean;
  /** Attributes added now (the others were there already). */
  searchAttributesAdded: string[];
}

function indexedType(type: SearchAttributeType): proto.temporal.api.enums.v1.IndexedValueType {
  const value = IndexedValueType[`INDEXED_VALUE_TYPE_${type}` as keyof typeof IndexedValueType];
  if (typeof value !== 'number') throw new Error(`no Temporal indexed value type for ${type}`);
  return value;
}

async function registerNamespace(connection: Connection, o: PrepareClusterOptions): Promise<boolean> {
  try {
    await connection.workflowService.registerNamespace({
      namespace: o.namespace,
      description: 'Fábrica pipelines',
      workflowExecutionRetentionPeriod: msToTs(`${o.retentionDays ?? 30} days`),
    });
    return true;
  } catch (err) {
    if (grpcCode(err) === ALREADY_EXISTS) return false;
    throw err;
  }
}

/** Adds the attributes the namespace lacks; an attribute that exists with another type is an error. */
async function addSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = existing.customAttributes ?? {};
  const missing: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of FABRICA_SEARCH_ATTRIBUTES) {
    const wanted = indexedType(key.type);
    const found = custom[key.name];
    if (found === undefined || found === null) missing[key.name] = wanted;
    else if (found !== wanted)
      throw new Error(
        `search attribute ${key.name} exists in namespace ${namespace} as ${IndexedValueType[found]}, Fábrica needs ${key.type}`,
      );
  }
  if (Object.keys(missing).length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    // Another preparer won the race: what it added is checked like the rest below.
    if (grpcCode(err) !== ALREADY_EXISTS) throw err;
  }
  return Object.keys(missing);
}

/**
 * Resolves once a visibility query naming every Fábrica attribute is accepted in the namespace: a frontend learns of a
 * new namespace and new attributes through caches that refresh on their own schedule.
 */
async function waitUsable(connection: Connection, namespace: string, timeoutMs: number): Promise<void> {
  // Back-quoted: SQL visibility's parser reads `Partition` unquoted as the keyword PARTITION and rejects the query.
  const query = FABRICA_SEARCH_ATTRIBUTES.map((key) => `\`${key.name}\` = 'fabrica-prepare'`).join(' AND ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace, query });
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`namespace ${namespace} not usable after ${timeoutMs / 1000}s: ${(err as Error).message}`, {
          cause: err,
        });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Prepares a Temporal cluster for Fábrica, as an operator does once per cluster (and again after an upgrade adds
 * attributes): registers the namespace through the gRPC API and adds Fábrica's search attributes through the operator
 * API, then waits until both are usable. Idempotent: what exists already is left as it is.
 */
export async function prepareTemporalCluster(
  connection: Connection,
  o: PrepareClusterOptions,
): Promise<PrepareClusterReport> {
  const log = o.log ?? (() => undefined);
  const namespaceRegistered = await registerNamespace(connection, o);
  log(namespaceRegistered ? `namespace ${o.namespace} registered` : `namespace ${o.namespace} already registered`);
  const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
  // A namespace just registered is unknown to the operator API until the namespace cache refreshes.
  let searchAttributesAdded: string[] | undefined;
  while (searchAttributesAdded === undefined) {
    try {
      searchAttributesAdded = await addSearchAttributes(connection, o.namespace);
    } catch (err) {
      const transient = grpcCode(err) === NOT_FOUND || grpcCode(err) === UNAVAILABLE;
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  log(
    searchAttributesAdded.length
      ? `search attributes added: ${searchAttributesAdded.join(', ')}`
      : 'search attributes already present',
  );
  await waitUsable(connection, o.namespace, Math.max(0, deadline - Date.now()));
  log(`namespace ${o.namespace} ready`);
  return { namespaceRegistered, searchAttributesAdded };
}
