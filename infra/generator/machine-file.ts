import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { REQUIRED_COLUMNS } from '../../activities/flows/machine-signal/contract-v1.js';
import { fileNameOf, hourIso, hourStartMs } from './calendar.js';
import { dataLines, encodeLine, type PartitionPlan } from './data-lines.js';
import {
  PartitionTally,
  QUALITY_THRESHOLD,
  type FileTruth,
  type PartitionOutcome,
  type PartitionTruth,
} from './ground-truth.js';

const FLUSH_BYTES = 256 * 1024;

/** Writes lines to a file in batches, so even a huge file never sits in memory. */
class BatchWriter {
  private batch: Buffer[] = [];
  private size = 0;
  bytes = 0;

  constructor(private readonly file: FileHandle) {}

  async write(bytes: Buffer): Promise<void> {
    this.batch.push(bytes);
    this.size += bytes.length;
    this.bytes += bytes.length;
    if (this.size >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    await this.file.write(Buffer.concat(this.batch, this.size));
    this.batch = [];
    this.size = 0;
  }
}

function headerLines(plan: PartitionPlan): Buffer[] {
  const { profile, hourKey } = plan;
  const columns: string[] = [...REQUIRED_COLUMNS, ...(profile.energy ? ['energy_wh'] : [])];
  if (plan.defect === 'schema_break') columns[columns.indexOf('vibration_mm_s')] = 'vibr_mm_s';
  return [
    encodeLine(`#machine=${profile.id};firmware=${profile.firmware};plant=SP-01;hour=${hourIso(hourKey)}`, plan),
    encodeLine(columns.join('|'), plan),
  ];
}

/**
 * Writes one partition's file: header, columns, data lines (defect injected) and trailer; an `incomplete` file stops
 * in the middle of a line, 60 % through, without trailer; a `checksum` file's trailer has a wrong hash.
 */
async function writeFile(file: string, plan: PartitionPlan, tally: PartitionTally): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  try {
    const out = new BatchWriter(handle);
    for (const line of headerLines(plan)) await out.write(line);
    const hash = createHash('sha256');
    const cutAt = plan.defect === 'incomplete' ? Math.floor(plan.items * 0.6) : Infinity;
    for (const line of dataLines(plan)) {
      if (tally.dataLines >= cutAt) {
        await out.write(line.bytes.subarray(0, Math.ceil(line.bytes.length / 2)));
        break;
      }
      tally.add(line);
      // The checksum covers each line's raw bytes with their `\n`: exactly the bytes written.
      hash.update(line.bytes);
      await out.write(line.bytes);
    }
    if (plan.defect !== 'incomplete') {
      let sha256 = hash.digest('hex');
      if (plan.defect === 'checksum') sha256 = `${sha256[0] === '0' ? '1' : '0'}${sha256.slice(1)}`;
      await out.write(encodeLine(`#end;items=${tally.dataLines};sha256=${sha256}`, plan));
    }
    await out.flush();
    return out.bytes;
  } finally {
    await handle.close();
  }
}

function outcomeOf(plan: PartitionPlan, tally: PartitionTally): PartitionOutcome {
  if (plan.defect === 'missing') return 'missing';
  if (plan.defect === 'schema_break') return 'contract_broken';
  if (plan.defect === 'incomplete' || plan.defect === 'checksum') return 'incomplete';
  return tally.rejected / Math.max(1, tally.dataLines) > QUALITY_THRESHOLD ? 'quality_failed' : 'loaded';
}

function partitionTruth(plan: PartitionPlan, tally: PartitionTally, files: string[]): PartitionTruth {
  const { profile, hourKey } = plan;
  const outcome = outcomeOf(plan, tally);
  const loaded = outcome === 'loaded';
  const readable = loaded || outcome === 'quality_failed';
  const parsed = {
    dataLines: tally.dataLines,
    goodRows: tally.goodRows,
    rejectedByReason: { ...tally.rejectedByReason },
    duplicates: tally.duplicates,
  };
  return {
    partition: `${profile.id}@${hourKey}`,
    machine: profile.id,
    hourKey,
    hourStart: hourIso(hourKey),
    outcome,
    defect: plan.defect ?? null,
    firmware: profile.firmware,
    encoding: profile.encoding,
    files,
    late: plan.defect === 'late',
    parsed: readable ? parsed : null,
    itemsLoaded: loaded ? tally.goodRows : 0,
    okBySku: loaded ? Object.fromEntries(Object.entries(tally.okBySku).sort(([a], [b]) => a.localeCompare(b))) : {},
    quarantinedByReason: loaded ? parsed.rejectedByReason : {},
    duplicates: loaded ? tally.duplicates : 0,
    yield: loaded ? tally.metrics.result(hourStartMs(hourKey), profile.energy) : null,
  };
}

/**
 * Writes a partition's file(s) under `outDir` and returns its expected state: nothing for `missing`, the file under
 * `late/` for `late`, and the same bytes again as `<name>.resend.txt` for `redelivery`.
 */
export async function writePartition(
  outDir: string,
  plan: PartitionPlan,
): Promise<{ truth: PartitionTruth; files: FileTruth[] }> {
  const tally = new PartitionTally();
  const partition = `${plan.profile.id}@${plan.hourKey}`;
  const name = fileNameOf(plan.profile.id, plan.hourKey);
  const files: FileTruth[] = [];
  if (plan.defect !== 'missing') {
    const late = plan.defect === 'late';
    const rel = late ? `late/${name}` : name;
    const bytes = await writeFile(path.join(outDir, rel), plan, tally);
    files.push({ path: rel, partition, bytes, late, redelivery: false });
    if (plan.defect === 'redelivery') {
      const resend = name.replace(/\.txt$/, '.resend.txt');
      await copyFile(path.join(outDir, rel), path.join(outDir, resend));
      files.push({ path: resend, partition, bytes, late: false, redelivery: true });
    }
  }
  return {
    truth: partitionTruth(
      plan,
      tally,
      files.map((f) => f.path),
    ),
    files,
  };
}
