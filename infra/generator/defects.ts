import { Rng, hashSeed } from './prng.js';

/** Defects injected into specific machine-hours (partitions). */
export const PARTITION_DEFECTS = [
  'malformed',
  'quality_threshold',
  'duplicate',
  'redelivery',
  'late',
  'incomplete',
  'checksum',
  'empty_hour',
  'missing',
  'out_of_order',
  'outside_hour',
  'schema_break',
  'huge',
] as const;

/** Defects carried by a whole machine through its firmware: 1.x writes ISO-8859-1, 3.x appends `energy_wh`. */
export const MACHINE_DEFECTS = ['latin1', 'energy'] as const;

/** A defect injected into one partition. */
export type PartitionDefect = (typeof PARTITION_DEFECTS)[number];

/** Any defect kind. */
export type DefectKind = PartitionDefect | (typeof MACHINE_DEFECTS)[number];

/** Every defect kind; `all` means all of them but `huge`, which is only injected when asked for by name. */
export const DEFECT_KINDS: readonly DefectKind[] = [...PARTITION_DEFECTS, ...MACHINE_DEFECTS];

/** Which defects to inject: `all`, `none`, or a list of kinds. */
export type DefectSelection = 'all' | 'none' | readonly DefectKind[];

/** Normalizes a selection to a sorted list of kinds; throws naming `--defects` on an unknown kind. */
export function resolveDefects(selection: DefectSelection): DefectKind[] {
  if (selection === 'none') return [];
  if (selection === 'all') return DEFECT_KINDS.filter((k) => k !== 'huge');
  for (const kind of selection) {
    if (!DEFECT_KINDS.includes(kind)) {
      throw new Error(`--defects: unknown defect kind "${kind}" (known: all, none, ${DEFECT_KINDS.join(', ')})`);
    }
  }
  return DEFECT_KINDS.filter((k) => selection.includes(k));
}

/**
 * Assigns each partition defect of the selection to its own partitions, deterministically from the seed: one per
 * 600 partitions of the range, at least one (`huge` always exactly one). Throws when the range is too small.
 */
export function planDefects(
  partitions: readonly string[],
  kinds: readonly DefectKind[],
  seed: number,
): Map<string, PartitionDefect> {
  const wanted = PARTITION_DEFECTS.filter((k) => kinds.includes(k));
  const perKind = Math.max(1, Math.floor(partitions.length / 600));
  const queue = wanted.flatMap((k) => Array.from({ length: k === 'huge' ? 1 : perKind }, () => k));
  if (queue.length > partitions.length) {
    throw new Error(
      `--defects: ${queue.length} defective machine-hours needed but the range has only ${partitions.length}; widen --from/--to or raise --machines`,
    );
  }
  const order = new Rng(hashSeed(seed, 'defects')).shuffle([...partitions]);
  return new Map(queue.map((kind, i) => [order[i]!, kind]));
}
