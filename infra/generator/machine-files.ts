import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PLANT_OFFSET, hourStartMs, parseDate, workingHourKeys } from './calendar.js';
import { machineProfiles, type MachineProfile } from './catalog.js';
import type { PartitionPlan } from './data-lines.js';
import { planDefects, resolveDefects, type DefectKind, type DefectSelection, type PartitionDefect } from './defects.js';
import { QUALITY_THRESHOLD, totalsOf, type FileTruth, type GroundTruth, type PartitionTruth } from './ground-truth.js';
import { writePartition } from './machine-file.js';
import { Rng, hashSeed } from './prng.js';

export { runGenerateCommand } from './command.js';

/** Options shared by the bulk generator and the one-file writer. */
export interface MachineFileOptions {
  /** Folder the files are written into (created if needed). */
  outDir: string;
  /** Everything is deterministic from it. */
  seed: number;
  /** Fleet size: machines `M01`…`Mnn` (1–99); decides firmware per machine. Default 10. */
  machines?: number;
  /** Typical items per file (each file varies ±10 %). Default 10,000 (~1 MB). */
  itemsPerFile?: number;
  /** Defects to inject; `all` (the default) is every kind but `huge`. Decides which firmware runs where. */
  defects?: DefectSelection;
  /** How many times the usual size the `huge` file is. Default 100. */
  hugeFactor?: number;
}

/** Options of {@link generateMachineFiles}. */
export interface GenerateMachineFilesOptions extends MachineFileOptions {
  /** First day, `YYYY-MM-DD` (local). */
  from: string;
  /** Last day, inclusive. */
  to: string;
  /** Where to write the ground truth; default `<outDir>/ground-truth.json`. */
  groundTruthPath?: string;
}

interface Fleet {
  seed: number;
  machines: MachineProfile[];
  kinds: DefectKind[];
  itemsPerFile: number;
  hugeFactor: number;
  seqStride: number;
}

function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new Error(`${name} must be an integer in 1..${max}, got ${value}`);
  return value;
}

function fleetOf(options: MachineFileOptions): Fleet {
  if (!Number.isInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}`);
  const kinds = resolveDefects(options.defects ?? 'all');
  const itemsPerFile = positiveInt('itemsPerFile', options.itemsPerFile ?? 10_000);
  const hugeFactor = positiveInt('hugeFactor', options.hugeFactor ?? 100);
  const count = positiveInt('machines', options.machines ?? 10, 99);
  const machines = machineProfiles(count, { latin1: kinds.includes('latin1'), energy: kinds.includes('energy') });
  // Each hour of a machine owns a range of item_seq values wider than any of its files, so they only increase.
  const maxItems = Math.max(
    Math.ceil(itemsPerFile * 1.1) + 1,
    600,
    kinds.includes('huge') ? itemsPerFile * hugeFactor : 0,
  );
  return {
    seed: options.seed,
    machines,
    kinds,
    itemsPerFile,
    hugeFactor,
    seqStride: Math.ceil((maxItems + 51) / 1000) * 1000,
  };
}

function planOf(
  fleet: Fleet,
  profile: MachineProfile,
  hourKey: string,
  defect: PartitionDefect | undefined,
): PartitionPlan {
  const rng = new Rng(hashSeed(fleet.seed, profile.id, hourKey, 'size'));
  const usual = Math.max(1, Math.round(fleet.itemsPerFile * (0.9 + 0.2 * rng.next())));
  let items = usual;
  if (defect === 'empty_hour') items = 0;
  else if (defect === 'huge') items = fleet.itemsPerFile * fleet.hugeFactor;
  // A few bad lines must stay under the 1 % threshold, which a tiny file cannot do.
  else if (defect === 'malformed' || defect === 'outside_hour') items = Math.max(usual, 600);
  return { profile, hourKey, seed: fleet.seed, items, seqStride: fleet.seqStride, defect };
}

/**
 * Writes machine signal files (contract v1) for every working hour (06–17, Monday–Friday, UTC−03:00) of every
 * machine between `from` and `to`, injecting the selected defects into specific partitions, and returns the ground
 * truth (also written as JSON). Deterministic: the same options give the same bytes. The truth is computed from the
 * generator's own rows, never by parsing the files.
 */
export async function generateMachineFiles(options: GenerateMachineFilesOptions): Promise<GroundTruth> {
  const [from, to] = [parseDate(options.from), parseDate(options.to)];
  if (from === undefined) throw new Error(`from must be a date YYYY-MM-DD, got ${options.from}`);
  if (to === undefined || to < from) throw new Error(`to must be a date YYYY-MM-DD not before from, got ${options.to}`);
  const fleet = fleetOf(options);
  const hours = workingHourKeys(options.from, options.to);
  const keys = fleet.machines.flatMap((m) => hours.map((h) => `${m.id}@${h}`));
  const defects = planDefects(keys, fleet.kinds, fleet.seed);
  await mkdir(options.outDir, { recursive: true });
  const partitions: PartitionTruth[] = [];
  const files: FileTruth[] = [];
  for (const profile of fleet.machines) {
    for (const hourKey of hours) {
      const written = await writePartition(
        options.outDir,
        planOf(fleet, profile, hourKey, defects.get(`${profile.id}@${hourKey}`)),
      );
      partitions.push(written.truth);
      files.push(...written.files);
    }
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  const truth: GroundTruth = {
    version: 1,
    contract: 'machine-signal-v1',
    options: {
      from: options.from,
      to: options.to,
      machines: fleet.machines.length,
      seed: fleet.seed,
      itemsPerFile: fleet.itemsPerFile,
      hugeFactor: fleet.hugeFactor,
      defects: fleet.kinds,
      plant: 'SP-01',
      utcOffset: PLANT_OFFSET,
    },
    rules: { qualityThreshold: QUALITY_THRESHOLD, toleranceMinutes: 5, downtimeGapSeconds: 120 },
    machines: fleet.machines.map(({ id, firmware, encoding, energy }) => ({ id, firmware, encoding, energy })),
    files,
    partitions: Object.fromEntries(partitions.map((p) => [p.partition, p])),
    totals: totalsOf(partitions, files.length),
  };
  const truthPath = options.groundTruthPath ?? path.join(options.outDir, 'ground-truth.json');
  await mkdir(path.dirname(truthPath), { recursive: true });
  await writeFile(truthPath, `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}

/**
 * Writes the file of ONE machine-hour (any hour, not only working ones), e.g. to keep landing new hours in a demo.
 * With the same fleet options and seed its bytes equal what {@link generateMachineFiles} writes for that hour when
 * no defect is planned there, and its item_seq values continue the machine's sequence.
 */
export async function writeMachineHourFile(
  options: MachineFileOptions & { machine: string; hourKey: string; defect?: PartitionDefect },
): Promise<{ truth: PartitionTruth; files: FileTruth[] }> {
  const fleet = fleetOf(options);
  const profile = fleet.machines.find((m) => m.id === options.machine);
  if (!profile)
    throw new Error(
      `machine must be one of M01..M${String(fleet.machines.length).padStart(2, '0')}, got ${options.machine}`,
    );
  hourStartMs(options.hourKey);
  await mkdir(options.outDir, { recursive: true });
  return writePartition(options.outDir, planOf(fleet, profile, options.hourKey, options.defect));
}
