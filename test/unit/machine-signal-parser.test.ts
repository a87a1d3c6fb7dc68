import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import {
  ContractBrokenError,
  DataFaultError,
  DataQualityError,
  IncompleteFileError,
  SourceMissingError,
  toApplicationFailure,
} from '../../activities/failures.js';
import {
  hasTrailer,
  parseFileName,
  parseMachineSignalFile,
  type MachineSignalEvent,
  type ParseMachineSignalOptions,
  type ParseSummary,
} from '../../activities/flows/machine-signal/contract-v1.js';

const FILE = 'M07_20261120T10.txt';
const HEADER = '#machine=M07;firmware=2.4.1;plant=SP-01;hour=2026-11-20T10:00:00-03:00';
const COLUMNS = 'ts|item_seq|sku|status|cycle_ms|temp_c|vibration_mm_s|operator';
const ROWS = [
  '2026-11-20T10:00:00.412-03:00|183220|SKU-PAN-24|OK|812|71.3|2.14|João Silva',
  '2026-11-20T10:00:01.207-03:00|183221|SKU-PAN-24|SCRAP|845|71.4|2.20|João Silva',
  '2026-11-20T10:00:02.010-03:00|183222|SKU-PAN-24|REWORK|799|71.2|2.11|Inês Conceição',
];

interface FileParts {
  header?: string;
  columns?: string;
  lines?: (string | Buffer)[];
  /** `auto` (default): a correct trailer; `none`: no trailer; or the trailer line itself. */
  trailer?: string;
  encoding?: BufferEncoding;
  eol?: string;
}

function makeFile(parts: FileParts = {}): Buffer {
  const { encoding = 'utf8', eol = '\n' } = parts;
  const enc = (s: string) => Buffer.from(`${s}${eol}`, encoding);
  const data = (parts.lines ?? ROWS).map((l) =>
    typeof l === 'string' ? enc(l) : Buffer.concat([l, Buffer.from(eol)]),
  );
  const sha = createHash('sha256').update(Buffer.concat(data)).digest('hex');
  const trailer = parts.trailer ?? 'auto';
  const tail =
    trailer === 'none' ? [] : [enc(trailer === 'auto' ? `#end;items=${data.length};sha256=${sha}` : trailer)];
  return Buffer.concat([enc(parts.header ?? HEADER), enc(parts.columns ?? COLUMNS), ...data, ...tail]);
}

function* chunks(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function parse(buf: Buffer, options: Partial<ParseMachineSignalOptions> = {}, chunkSize = 64) {
  const events: MachineSignalEvent[] = [];
  let error: unknown;
  try {
    for await (const ev of parseMachineSignalFile(chunks(buf, chunkSize), { fileName: FILE, ...options }))
      events.push(ev);
  } catch (err) {
    error = err;
  }
  const end = events.find((e) => e.kind === 'end');
  const summary: ParseSummary | undefined = end?.kind === 'end' ? end.summary : undefined;
  const rows = events.flatMap((e) => (e.kind === 'row' ? [e.row] : []));
  const rejected = events.flatMap((e) => (e.kind === 'rejected' ? [e.rejected] : []));
  return { events, summary, rows, rejected, error };
}

function withField(row: string, index: number, value: string): string {
  const f = row.split('|');
  f[index] = value;
  return f.join('|');
}

describe('parseMachineSignalFile: valid files', () => {
  it('types every row and summarizes the file', async () => {
    const buf = makeFile();
    const { events, summary, rows, error } = await parse(buf);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.kind)).toEqual(['header', 'row', 'row', 'row', 'end']);
    expect(rows[0]).toEqual({
      machineId: 'M07',
      itemSeq: 183220,
      ts: '2026-11-20T10:00:00.412-03:00',
      tsMs: Date.parse('2026-11-20T13:00:00.412Z'),
      sku: 'SKU-PAN-24',
      status: 'OK',
      cycleMs: 812,
      tempC: 71.3,
      vibrationMmS: 2.14,
      operator: 'João Silva',
      energyWh: null,
      lineNo: 3,
    });
    expect(rows.map((r) => r.status)).toEqual(['OK', 'SCRAP', 'REWORK']);
    expect(summary).toMatchObject({
      header: {
        machine: 'M07',
        firmware: '2.4.1',
        plant: 'SP-01',
        hourKey: '2026-11-20T10',
        hour: '2026-11-20T10:00:00-03:00',
      },
      extraColumns: [],
      encoding: 'utf8',
      dataLines: 3,
      goodRows: 3,
      rejectedRows: 0,
      rejectedByReason: {},
      duplicateRows: 0,
      trailer: { items: 3 },
      bytes: buf.length,
    });
    expect(summary!.header.hourStartMs).toBe(Date.parse('2026-11-20T13:00:00Z'));
  });

  it('gives the same events whatever the chunking, even when a chunk ends inside a UTF-8 character', async () => {
    const buf = makeFile();
    const accent = buf.indexOf(Buffer.from('ã'));
    expect(accent).toBeGreaterThan(0);
    const reference = await parse(buf, {}, buf.length);
    for (const size of [1, 2, 3, 7, accent + 1]) {
      const { events, error } = await parse(buf, {}, size);
      expect(error).toBeUndefined();
      expect(events).toEqual(reference.events);
    }
  });

  it('decodes firmware 1.x files as ISO-8859-1, tolerating CRLF and hashing the raw bytes', async () => {
    const header = HEADER.replace('2.4.1', '1.9.4');
    const buf = makeFile({ header, encoding: 'latin1', eol: '\r\n' });
    expect(buf.includes(Buffer.from('ã', 'latin1'))).toBe(true);
    const { rows, summary, error } = await parse(buf, {}, 5);
    expect(error).toBeUndefined();
    expect(summary!.encoding).toBe('latin1');
    expect(rows.map((r) => r.operator)).toEqual(['João Silva', 'João Silva', 'Inês Conceição']);
    expect(rows[0]!.ts).toBe('2026-11-20T10:00:00.412-03:00');
  });

  it('parses firmware 3.x energy_wh as a nullable number and records it', async () => {
    const header = HEADER.replace('2.4.1', '3.1.0');
    const lines = [`${ROWS[0]}|12.50`, `${ROWS[1]}|`];
    const { rows, summary, error } = await parse(makeFile({ header, columns: `${COLUMNS}|energy_wh`, lines }));
    expect(error).toBeUndefined();
    expect(rows.map((r) => r.energyWh)).toEqual([12.5, null]);
    expect(summary!.extraColumns).toEqual(['energy_wh']);
  });

  it('maps columns by name, and accepts and ignores unknown extra columns', async () => {
    const columns = 'operator|sku|ts|item_seq|status|cycle_ms|temp_c|vibration_mm_s|shift';
    const line = 'João Silva|SKU-POT-18|2026-11-20T10:10:00.000-03:00|7|OK|800|70.0|2.00|A';
    const { rows, summary, events } = await parse(makeFile({ columns, lines: [line] }));
    expect(rows[0]).toMatchObject({ operator: 'João Silva', sku: 'SKU-POT-18', itemSeq: 7, cycleMs: 800, tempC: 70 });
    expect(summary!.extraColumns).toEqual(['shift']);
    expect(events[0]).toMatchObject({ kind: 'header', columns: columns.split('|'), extraColumns: ['shift'] });
  });

  it('accepts an empty hour and timestamps out of order', async () => {
    const empty = await parse(makeFile({ lines: [] }));
    expect(empty.error).toBeUndefined();
    expect(empty.summary).toMatchObject({ dataLines: 0, goodRows: 0, trailer: { items: 0 } });
    expect(empty.summary!.trailer.sha256).toBe(createHash('sha256').digest('hex'));
    const shuffled = await parse(makeFile({ lines: [ROWS[2]!, ROWS[0]!, ROWS[1]!] }));
    expect(shuffled.rows.map((r) => r.itemSeq)).toEqual([183222, 183220, 183221]);
    expect(shuffled.summary!.rejectedRows).toBe(0);
  });

  it('accepts a trailer without its final line break', async () => {
    const buf = makeFile();
    const { summary, error } = await parse(buf.subarray(0, buf.length - 1));
    expect(error).toBeUndefined();
    expect(summary!.goodRows).toBe(3);
  });

  it('streams: the first row comes out before the source is read to the end', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => withField(ROWS[0]!, 1, String(1000 + i)));
    const buf = makeFile({ lines });
    let pulled = 0;
    async function* source() {
      for (const c of chunks(buf, 256)) {
        pulled++;
        yield await Promise.resolve(c);
      }
    }
    const parser = parseMachineSignalFile(source(), { fileName: FILE });
    for await (const ev of parser) {
      if (ev.kind === 'row') break;
    }
    expect(pulled).toBeLessThan(Math.ceil(buf.length / 256) / 4);
  });
});

describe('parseMachineSignalFile: quarantined rows', () => {
  it('quarantines each malformed line with its reason and a message naming file, line and column', async () => {
    const lines = [
      ROWS[0]!,
      ROWS[1]!.split('|').slice(0, 7).join('|'),
      withField(ROWS[1]!, 4, '8x2'),
      withField(ROWS[1]!, 5, '71,3'),
      withField(ROWS[1]!, 1, '18.5'),
      withField(ROWS[1]!, 0, '2026-11-20 10:00:01'),
      withField(ROWS[1]!, 0, '2026-02-30T10:00:01.000-03:00'),
      withField(ROWS[1]!, 3, 'ok'),
      withField(ROWS[1]!, 2, ''),
      withField(ROWS[1]!, 0, '2026-11-20T11:06:00.000-03:00'),
      ROWS[2]!,
    ];
    const { rejected, summary, rows } = await parse(makeFile({ lines }));
    expect(rows.map((r) => r.lineNo)).toEqual([3, 13]);
    expect(rejected.map((r) => [r.lineNo, r.reason, r.column])).toEqual([
      [4, 'field_count', undefined],
      [5, 'bad_number', 'cycle_ms'],
      [6, 'bad_number', 'temp_c'],
      [7, 'bad_number', 'item_seq'],
      [8, 'bad_timestamp', 'ts'],
      [9, 'bad_timestamp', 'ts'],
      [10, 'bad_status', 'status'],
      [11, 'missing_value', 'sku'],
      [12, 'outside_hour', 'ts'],
    ]);
    expect(rejected[0]!.detail).toBe(`${FILE}:4: expected 8 fields, found 7`);
    expect(rejected[1]!.detail).toBe(`${FILE}:5: column cycle_ms: not a number: "8x2"`);
    expect(rejected[3]!.detail).toBe(`${FILE}:7: column item_seq: not an integer: "18.5"`);
    expect(rejected[8]!.detail).toMatch(/^M07_20261120T10\.txt:12: column ts: .* outside the hour .*tolerance 5 min/);
    expect(rejected[1]!.raw).toBe(lines[2]);
    expect(summary).toMatchObject({
      dataLines: 11,
      goodRows: 2,
      rejectedRows: 9,
      rejectedByReason: {
        field_count: 1,
        bad_number: 3,
        bad_timestamp: 2,
        bad_status: 1,
        missing_value: 1,
        outside_hour: 1,
      },
    });
  });

  it('applies the outside-hour tolerance on both sides', async () => {
    const at = (ts: string) => withField(ROWS[0]!, 0, ts);
    const lines = [
      at('2026-11-20T09:55:00.000-03:00'),
      at('2026-11-20T09:54:59.999-03:00'),
      at('2026-11-20T11:04:59.999-03:00'),
      at('2026-11-20T11:05:00.000-03:00'),
      at('2026-11-20T13:30:00.000Z'),
    ].map((l, i) => withField(l, 1, String(i)));
    const strict = await parse(makeFile({ lines }));
    expect(strict.rows.map((r) => r.itemSeq)).toEqual([0, 2, 4]);
    expect(strict.rejected.map((r) => r.reason)).toEqual(['outside_hour', 'outside_hour']);
    const loose = await parse(makeFile({ lines }), { toleranceMinutes: 10 });
    expect(loose.rows).toHaveLength(5);
  });

  it('quarantines a line that is not valid UTF-8 in a UTF-8 file, keeping its bytes readable', async () => {
    const bad = Buffer.from(ROWS[2]!, 'latin1');
    const { rejected, rows } = await parse(makeFile({ lines: [ROWS[0]!, bad] }), {}, 3);
    expect(rows).toHaveLength(1);
    expect(rejected).toEqual([
      { lineNo: 4, reason: 'bad_encoding', detail: `${FILE}:4: not valid UTF-8`, raw: ROWS[2] },
    ]);
  });

  it('loads a duplicate item_seq once (the first valid line wins) and counts it', async () => {
    const broken = withField(ROWS[1]!, 4, 'x');
    const lines = [broken, ROWS[0]!, ROWS[1]!, ROWS[0]!, withField(ROWS[0]!, 2, 'SKU-LID-24')];
    const { rows, events, summary } = await parse(makeFile({ lines }));
    expect(rows.map((r) => [r.lineNo, r.itemSeq, r.sku])).toEqual([
      [4, 183220, 'SKU-PAN-24'],
      [5, 183221, 'SKU-PAN-24'],
    ]);
    expect(events.filter((e) => e.kind === 'duplicate')).toEqual([
      { kind: 'duplicate', lineNo: 6, itemSeq: 183220 },
      { kind: 'duplicate', lineNo: 7, itemSeq: 183220 },
    ]);
    expect(summary).toMatchObject({ dataLines: 5, goodRows: 2, rejectedRows: 1, duplicateRows: 2 });
  });
});

describe('parseMachineSignalFile: broken contract', () => {
  it('rejects a renamed column before any row, naming the missing and unexpected columns', async () => {
    const columns = COLUMNS.replace('vibration_mm_s', 'vibr_mm_s');
    const { events, error } = await parse(makeFile({ columns }));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(ContractBrokenError);
    expect((error as Error).message).toBe(
      `${FILE}: breaking schema change: missing column(s) vibration_mm_s; unexpected column(s) vibr_mm_s`,
    );
    expect((error as ContractBrokenError).details).toMatchObject({
      missingColumns: ['vibration_mm_s'],
      unexpectedColumns: ['vibr_mm_s'],
    });
  });

  it('rejects a removed or repeated column', async () => {
    const removed = await parse(makeFile({ columns: COLUMNS.replace('|temp_c', '') }));
    expect((removed.error as Error).message).toBe(`${FILE}: breaking schema change: missing column(s) temp_c`);
    const repeated = await parse(makeFile({ columns: `${COLUMNS}|sku` }));
    expect((repeated.error as Error).message).toBe(`${FILE}: breaking schema change: repeated column(s) sku`);
  });

  it.each([
    ['no header line', COLUMNS],
    ['machine missing', '#firmware=2.4.1;plant=SP-01;hour=2026-11-20T10:00:00-03:00'],
    ['hour not on the hour', HEADER.replace('10:00:00', '10:30:00')],
    ['hour without offset', HEADER.replace('-03:00', '')],
    ['not key=value', `${HEADER};junk`],
  ])('rejects a bad header line (%s)', async (_, header) => {
    const { events, error } = await parse(makeFile({ header }));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(ContractBrokenError);
    expect((error as Error).message).toMatch(/^M07_20261120T10\.txt:1: bad header line/);
  });

  it('rejects a line longer than the limit', async () => {
    const { error } = await parse(makeFile({ lines: [ROWS[0]!, `${ROWS[1]}${'x'.repeat(500)}`] }), {
      maxLineBytes: 200,
    });
    expect(error).toBeInstanceOf(ContractBrokenError);
    expect((error as Error).message).toMatch(/over the 200-byte limit/);
  });
});

describe('parseMachineSignalFile: incomplete files', () => {
  const incomplete = async (buf: Buffer) => {
    const { error, summary } = await parse(buf);
    expect(summary).toBeUndefined();
    expect(error).toBeInstanceOf(IncompleteFileError);
    return error as IncompleteFileError;
  };

  it('fails a file without trailer, or cut in the middle of a line', async () => {
    const noTrailer = await incomplete(makeFile({ trailer: 'none' }));
    expect(noTrailer.message).toMatch(/^M07_20261120T10\.txt: incomplete file: no trailer/);
    expect(noTrailer.details).toMatchObject({ reason: 'missing_trailer', machine: 'M07', hourKey: '2026-11-20T10' });
    const full = makeFile();
    await incomplete(full.subarray(0, full.indexOf(Buffer.from('SCRAP'))));
    await incomplete(full.subarray(0, full.length - 10));
    await incomplete(Buffer.concat([full, Buffer.from('\n')]));
  });

  it('fails a file whose trailer count or checksum does not match', async () => {
    const sha = createHash('sha256')
      .update(`${ROWS.join('\n')}\n`)
      .digest('hex');
    const items = await incomplete(makeFile({ trailer: `#end;items=4;sha256=${sha}` }));
    expect(items.message).toBe(`${FILE}: incomplete file: trailer says items=4 but the file has 3 data lines`);
    const checksum = await incomplete(makeFile({ trailer: `#end;items=3;sha256=${'0'.repeat(64)}` }));
    expect(checksum.details).toMatchObject({ reason: 'checksum_mismatch', sha256: sha });
    expect((await parse(makeFile({ trailer: `#end;items=3;sha256=${sha.toUpperCase()}` }))).error).toBeUndefined();
  });

  it('fails an empty file, or one that ends in its header', async () => {
    expect((await incomplete(Buffer.alloc(0))).message).toBe(`${FILE}: incomplete file: empty file`);
    await incomplete(Buffer.from(HEADER.slice(0, 30)));
    await incomplete(Buffer.from(`${HEADER}\n`));
    await incomplete(Buffer.from(`${HEADER}\n${COLUMNS}\n`));
    const broken = await parse(Buffer.from(`${HEADER}\n${COLUMNS.replace('sku', 'SKU')}\n`));
    expect(broken.error).toBeInstanceOf(ContractBrokenError);
  });
});

describe('hasTrailer', () => {
  const file = makeFile();
  it('recognizes a complete file from its last bytes', () => {
    expect(hasTrailer(file.subarray(-200))).toBe(true);
    expect(hasTrailer(file.subarray(-200, -1))).toBe(true);
    expect(hasTrailer(makeFile({ eol: '\r\n' }).subarray(-200))).toBe(true);
    expect(hasTrailer(makeFile({ lines: [] }))).toBe(true);
  });

  it('rejects a file still being written', () => {
    expect(hasTrailer(file.subarray(-200, -5))).toBe(false);
    expect(hasTrailer(makeFile({ trailer: 'none' }).subarray(-200))).toBe(false);
    expect(hasTrailer(Buffer.concat([file, Buffer.from(`${ROWS[0]}\n`)]).subarray(-200))).toBe(false);
    expect(hasTrailer(file.subarray(-40))).toBe(false);
    expect(hasTrailer(Buffer.alloc(0))).toBe(false);
  });
});

describe('parseFileName', () => {
  it('reads machine and hour from landing names, re-sent ones included', () => {
    expect(parseFileName('M07_20261120T10.txt')).toEqual({ machine: 'M07', hourKey: '2026-11-20T10' });
    expect(parseFileName('landing/late/M03_20261120T09.resend.txt')).toEqual({
      machine: 'M03',
      hourKey: '2026-11-20T09',
    });
  });

  it.each([
    'M07_20261120T10.csv',
    'M07_20261131T10.txt',
    'M07_20261120T24.txt',
    'M07-20261120T10.txt',
    'ground-truth.json',
  ])('returns undefined for %s', (name) => expect(parseFileName(name)).toBeUndefined());
});

describe('failures', () => {
  it('turns data faults into non-retryable application failures with their type and details', () => {
    const cases: [DataFaultError, string][] = [
      [new ContractBrokenError('a', { fileName: FILE }), 'ContractBroken'],
      [new IncompleteFileError('b'), 'IncompleteFile'],
      [new DataQualityError('c', { ratio: 0.05 }), 'DataQualityThresholdExceeded'],
      [new SourceMissingError('d'), 'SourceMissing'],
      [new DataFaultError('ContractBroken', 'e', {}), 'ContractBroken'],
    ];
    for (const [err, type] of cases) {
      expect(err.type).toBe(type);
      const failure = toApplicationFailure(err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ message: err.message, type, nonRetryable: true, details: [err.details] });
    }
    expect(new DataQualityError('c').name).toBe('DataQualityError');
  });

  it('leaves other errors alone', () => {
    const err = new Error('connection reset');
    expect(toApplicationFailure(err)).toBe(err);
  });
});
