import { partitionKey } from '../../../workflows/partitions.js';
import { heartbeat, throwIfCancelled } from '../../activity-context.js';
import { copyText } from '../../formats/copy-text.js';
import { ContractBrokenError } from '../../failures.js';
import type { FileFormat, FormatParseInput, FormatParseResult, QuarantineRecord } from '../../formats/registry.js';
import { hasTrailer, parseMachineSignalFile, type MachineSignalRow, type ParseSummary } from './contract-v1.js';
import { NEIGHBOUR_BATCH, NeighbourItems } from './neighbour-items.js';
import { PartitionProfiler } from './partition-profile.js';

const HEADER = /^#machine=([A-Za-z0-9_-]{1,32});.*hour=(\d{4}-\d{2}-\d{2}T\d{2}):00:00/;

/** One production event as a COPY text line, in the `production_events` dataset's column order. */
function eventLine(hourStart: string, r: MachineSignalRow, sha: string): string {
  const energy = r.energyWh === null ? '\\N' : String(r.energyWh);
  return `${hourStart}\t${copyText(r.machineId)}\t${r.itemSeq}\t${copyText(r.ts)}\t${copyText(r.sku)}\t${r.status}\t${r.cycleMs}\t${r.tempC}\t${r.vibrationMmS}\t${copyText(r.operator)}\t${energy}\t${r.lineNo}\t${sha}\n`;
}

/**
 * Streams the raw file through the contract v1 parser into staged production events and quarantine records,
 * profiling the rows on the way (per-SKU OK counts and yield statistics), so the data is read once. A line repeating
 * an item (same item_seq) of the file, or of the machine's neighbouring hour already published, is a duplicate: the
 * item is loaded once (README "Run semantics"). Candidate repeats of a neighbouring hour are held back in batches of
 * {@link NEIGHBOUR_BATCH} and looked up in the warehouse, so memory stays bounded.
 */
async function parse(input: FormatParseInput): Promise<FormatParseResult> {
  const { spec, window, sha256, staged, quarantine, fileName, partition } = input;
  const profiler = new PartitionProfiler();
  const expected = partition.split('@')[0]!;
  const hourStart = window.start;
  const neighbours = input.warehouse ? await NeighbourItems.of(input.warehouse, expected, hourStart) : undefined;
  let held: MachineSignalRow[] = [];
  let inOtherHours = 0;
  let summary: ParseSummary | undefined;
  let n = 0;
  const keep = async (row: MachineSignalRow) => {
    staged.add(eventLine(hourStart, row, sha256));
    profiler.add(row);
    if (++n % 20_000 === 0) {
      heartbeat({ rows: n });
      throwIfCancelled();
      await staged.maybeFlush();
    }
  };
  const resolveHeld = async () => {
    const repeated = await neighbours!.published(held.map((r) => r.itemSeq));
    for (const row of held) {
      if (repeated.has(row.itemSeq)) inOtherHours++;
      else await keep(row);
    }
    held = [];
  };
  const parser = parseMachineSignalFile(await input.lake.get(input.rawKey), {
    fileName,
    toleranceMinutes: spec.quality.timestampToleranceMinutes,
  });
  for await (const ev of parser) {
    if (ev.kind === 'row') {
      if (neighbours?.mayRepeat(ev.row.itemSeq)) {
        held.push(ev.row);
        if (held.length >= NEIGHBOUR_BATCH) await resolveHeld();
      } else await keep(ev.row);
    } else if (ev.kind === 'header') {
      if (ev.header.machine !== expected || ev.header.hourStartMs !== Date.parse(hourStart))
        throw new ContractBrokenError(
          `${fileName}: header says ${ev.header.machine} at ${ev.header.hour}, not partition ${partition}`,
          { partition },
        );
    } else if (ev.kind === 'rejected') {
      const { lineNo, reason, column, detail, raw } = ev.rejected;
      const q: QuarantineRecord = { lineNo, reason, column: column ?? null, detail, raw };
      quarantine.add(`${JSON.stringify(q)}\n`);
      await quarantine.maybeFlush();
    } else if (ev.kind === 'end') {
      summary = ev.summary;
    }
  }
  if (!summary) throw new Error(`${fileName}: parser ended without a summary`);
  if (held.length > 0) await resolveHeld();
  const duplicates = summary.duplicateRows + inOtherHours;
  return {
    dataLines: summary.dataLines,
    rows: summary.goodRows - inOtherHours,
    quarantined: summary.rejectedRows,
    duplicates,
    quarantinedByReason: summary.rejectedByReason,
    encoding: summary.encoding,
    extraColumns: summary.extraColumns,
    facts: { firmware: summary.header.firmware, plant: summary.header.plant },
    profile: profiler.result(Date.parse(hourStart), summary.extraColumns.includes('energy_wh')),
    checks: [
      { name: 'trailer_checksum', passed: true, details: { items: summary.trailer.items } },
      {
        name: 'duplicates',
        passed: true,
        observed: duplicates,
        details: { inFile: summary.duplicateRows, inOtherHours },
      },
    ],
  };
}

/** The machine-signal contract v1 (README: "The machine file contract"): header, pipe-separated rows, trailer. */
export const machineSignalFormat: FileFormat = {
  id: 'machine-signal-v1',
  parse,
  hasTrailer,
  partitionFromHead(head) {
    const m = HEADER.exec(head.toString('latin1').split('\n', 1)[0] ?? '');
    return m ? partitionKey({ kind: 'entity-hour' }, m[2]!, m[1]) : undefined;
  },
  stagedDataset: 'production_events',
};
