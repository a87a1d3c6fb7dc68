/**
 * The lake's key layout, version 1. Every key starts with the layout version so a future layout can live beside it.
 *
 * | zone        | key                                                                        | content                 |
 * |-------------|----------------------------------------------------------------------------|-------------------------|
 * | raw         | `v1/raw/<pipeline>/<sha256[0:2]>/<sha256>.txt`                             | immutable copy of a landed file, addressed by content |
 * | staged      | `v1/staged/<pipeline>/_staged/<partition>/<sha256>.tsv`                    | the format's typed rows, PostgreSQL COPY text |
 * | staged      | `v1/staged/<pipeline>/<dataset>/<partition>/<sha256>.tsv`                  | a TypeScript transform's output dataset |
 * | staged      | `v1/staged/<pipeline>/_profile/<partition>/<sha256>.json`                  | per-SKU counts and yield statistics of the staged rows |
 * | quarantine  | `v1/quarantine/<pipeline>/<partition>/<sha256>.jsonl`                      | rejected rows, one JSON object per line with its reason |
 * | quarantine  | `v1/quarantine/<pipeline>/<partition>/<sha256>.file.json`                  | a whole file rejected (contract break), with the error |
 * | serving     | `v1/serving/<pipeline>/<dataset>/<partition>.jsonl`                        | serving snapshots (JSON Lines) |
 * | handoff     | `v1/handoff/<pipeline>/<table>/<partition>/<run id>.json`                  | rows for an edge target        |
 * | relayed     | `v1/relayed/<pipeline>/<hh>/<sha256 of key + version tag>`                 | landing versions relayed       |
 *
 * Partition keys contain `@`, which both adapters store as is.
 */
export const lakeKeys = {
  raw: (pipeline: string, sha256: string) => `v1/raw/${pipeline}/${sha256.slice(0, 2)}/${sha256}.txt`,
  staged: (pipeline: string, dataset: string, partition: string, sha256: string) =>
    `v1/staged/${pipeline}/${dataset}/${partition}/${sha256}.tsv`,
  profile: (pipeline: string, partition: string, sha256: string) =>
    `v1/staged/${pipeline}/_profile/${partition}/${sha256}.json`,
  quarantineRows: (pipeline: string, partition: string, sha256: string) =>
    `v1/quarantine/${pipeline}/${partition}/${sha256}.jsonl`,
  quarantineFile: (pipeline: string, partition: string, sha256: string) =>
    `v1/quarantine/${pipeline}/${partition}/${sha256}.file.json`,
  serving: (pipeline: string, dataset: string, partition: string) =>
    `v1/serving/${pipeline}/${dataset}/${partition}.jsonl`,
  handoff: (pipeline: string, table: string, partition: string, runId: string) =>
    `v1/handoff/${pipeline}/${table}/${partition}/${runId}.json`,
  relayed: (pipeline: string, versionHash: string) => `v1/relayed/${pipeline}/${versionHash.slice(0, 2)}/${versionHash}`,
  relayedPrefix: (pipeline: string) => `v1/relayed/${pipeline}/`,
};

/** A URI naming a lake object in lineage records. */
export function lakeUri(location: string, key: string): string {
  return `${location.replace(/\/$/, '')}/${key}`;
}

/** A URI naming a warehouse table partition in lineage records. */
export function tableUri(table: string, partition: string): string {
  return `postgres://warehouse/${table}?partition=${encodeURIComponent(partition)}`;
}
