import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { ContractBrokenError } from '../../activities/failures.js';
import type {
  GenericEvent,
  GenericRejected,
  GenericSummary,
  JsonLinesFormatConfig,
} from '../../activities/formats/format.js';
import { genericFormatProblems, parseGenericFile } from '../../activities/formats/generic/index.js';
import { parseJsonLinesFile } from '../../activities/formats/jsonl/parser.js';

const FILE = 'leituras_20261120.jsonl';

/** A JSON Lines contract using every column type. */
const FORMAT: JsonLinesFormatConfig = {
  kind: 'jsonl',
  timeZone: 'America/Sao_Paulo',
  columns: [
    { name: 'id', type: 'text' },
    { name: 'seq', type: 'integer' },
    { name: 'total', type: 'bigint', nullable: true },
    { name: 'peso_g', source: 'pesoG', type: 'decimal', nullable: true },
    { name: 'temp_c', source: 'tempC', type: 'double', nullable: true },
    { name: 'ok', type: 'boolean', nullable: true },
    { name: 'dia', type: 'date', nullable: true },
    { name: 'lido_em', source: 'lidoEm', type: 'timestamp', nullable: true },
    { name: 'medido_em', source: 'medidoEm', type: 'timestamp', pattern: 'dd/MM/yyyy HH:mm', nullable: true },
    { name: 'nota', type: 'text', required: false },
  ],
};
const SOURCES = ['id', 'seq', 'total', 'pesoG', 'tempC', 'ok', 'dia', 'lidoEm', 'medidoEm', 'nota'];

/** A valid record. */
const RECORD = {
  id: 'R1',
  seq: 7,
  total: 9007199254740991,
  pesoG: 12.5,
  tempC: 71.25,
  ok: true,
  dia: '2026-11-20',
  lidoEm: '2026-11-20T10:15:00.412-03:00',
  medidoEm: '20/11/2026 10:15',
  nota: 'Inês “ç” €',
};
const RECORD_VALUES = [
  'R1',
  7,
  9007199254740991,
  '12.5',
  71.25,
  't',
  '2026-11-20',
  '2026-11-20T13:15:00.412Z',
  '2026-11-20T13:15:00.000Z',
  'Inês “ç” €',
];

/** One line: the record with some fields changed (`undefined` removes a field). */
function line(changes: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...RECORD, ...changes });
}

/** Parses a whole file (one chunk, or the given chunks) and sorts out what came back. */
async function parse(source: Buffer | string | (Buffer | string)[], config: JsonLinesFormatConfig = FORMAT) {
  const events: GenericEvent[] = [];
  let error: unknown;
  try {
    const chunks = Array.isArray(source) ? source : [source];
    for await (const ev of parseJsonLinesFile(chunks, config, { fileName: FILE })) events.push(ev);
  } catch (err) {
    error = err;
  }
  const rows = events.flatMap((e) => (e.kind === 'row' ? [{ lineNo: e.lineNo, values: e.values }] : []));
  const rejected: GenericRejected[] = events.flatMap((e) => (e.kind === 'rejected' ? [e.rejected] : []));
  const end = events.find((e) => e.kind === 'end');
  const summary: GenericSummary | undefined = end?.kind === 'end' ? end.summary : undefined;
  return { events, rows, rejected, summary, error };
}

/** The reason and the message (without the file name) of each quarantined line. */
function reasons(rejected: GenericRejected[]): [string, string | undefined, string][] {
  return rejected.map((r) => [r.reason, r.column, r.detail.slice(FILE.length + 1)]);
}

describe('parseJsonLinesFile', () => {
  it('types every declared field and emits columns first, then rows, then the summary', async () => {
    const text = `${line()}\n${line({ id: 'R2', seq: -3, pesoG: 1e21, tempC: 1e-7, ok: false, nota: undefined })}\n`;
    const { events, rows, summary, error } = await parse(text);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.kind)).toEqual(['columns', 'row', 'row', 'end']);
    expect(events[0]).toEqual({ kind: 'columns', columns: SOURCES, extraColumns: [] });
    expect(rows).toEqual([
      { lineNo: 1, values: RECORD_VALUES },
      {
        lineNo: 2,
        values: ['R2', -3, 9007199254740991, '1000000000000000000000', 1e-7, 'f', ...RECORD_VALUES.slice(6, 9), null],
      },
    ]);
    expect(summary).toEqual({
      columns: SOURCES,
      extraColumns: [],
      encoding: 'utf-8',
      dataLines: 2,
      goodRows: 2,
      rejectedRows: 0,
      rejectedByReason: {},
      duplicateRows: 0,
      bytes: Buffer.byteLength(text),
    });
  });

  it('writes a decimal read from a JSON number in plain notation', async () => {
    const text = [1e-7, -2.5e-8, 123.456, -1.5e22].map((n, i) => line({ id: `R${i}`, pesoG: n })).join('\n');
    const { rows } = await parse(text);
    expect(rows.map((r) => r.values[3])).toEqual(['0.0000001', '-0.000000025', '123.456', '-15000000000000000000000']);
  });

  it('reads NULL from null, "" and absent nullable fields; a required non-nullable one is missing_value', async () => {
    const lines = [
      line({
        total: null,
        pesoG: null,
        tempC: undefined,
        ok: null,
        dia: '',
        lidoEm: null,
        medidoEm: '',
        nota: undefined,
      }),
      line({ id: undefined }),
      line({ id: null }),
      line({ id: '' }),
      line({ seq: undefined }),
    ];
    const { rows, rejected, summary } = await parse(lines.join('\r\n'));
    expect(rows).toEqual([{ lineNo: 1, values: ['R1', 7, null, null, null, null, null, null, null, null] }]);
    expect(reasons(rejected)).toEqual([
      ['missing_value', 'id', '2: column id: field id absent'],
      ['missing_value', 'id', '3: column id: null'],
      ['missing_value', 'id', '4: column id: empty'],
      ['missing_value', 'seq', '5: column seq: field seq absent'],
    ]);
    expect(summary).toMatchObject({
      dataLines: 5,
      goodRows: 1,
      rejectedRows: 4,
      rejectedByReason: { missing_value: 4 },
    });
  });

  it('is strict about JSON types: bad_type, bad_number, bad_datetime, bad_date', async () => {
    const lines = [
      line({ id: 12 }),
      line({ seq: '7' }),
      line({ seq: 7.5 }),
      line({ seq: 2147483648 }),
      line({ total: 9007199254740992 }),
      line({ pesoG: '12.5' }),
      line({ tempC: [71] }),
      line({ ok: 'true' }),
      line({ dia: 20261120 }),
      line({ dia: '2026-02-30' }),
      line({ lidoEm: '10:15' }),
      line({ medidoEm: '2026-11-20T10:15' }),
      line({ nota: { texto: 'x' } }),
    ];
    const { rows, rejected } = await parse(lines.join('\n'));
    expect(rows).toEqual([]);
    expect(reasons(rejected)).toEqual([
      ['bad_type', 'id', '1: column id: expected a string, found number 12'],
      ['bad_type', 'seq', '2: column seq: expected a number, found a string'],
      ['bad_number', 'seq', '3: column seq: not an integer: 7.5'],
      ['bad_number', 'seq', '4: column seq: outside the integer range: 2147483648'],
      ['bad_number', 'total', '5: column total: outside the bigint range: 9007199254740992'],
      ['bad_type', 'peso_g', '6: column peso_g: expected a number, found a string'],
      ['bad_type', 'temp_c', '7: column temp_c: expected a number, found an array'],
      ['bad_type', 'ok', '8: column ok: expected true or false, found a string'],
      ['bad_type', 'dia', '9: column dia: expected a string, found number 20261120'],
      ['bad_date', 'dia', '10: column dia: not a date (yyyy-MM-dd): "2026-02-30"'],
      ['bad_datetime', 'lido_em', '11: column lido_em: not a timestamp (ISO-8601): "10:15"'],
      ['bad_datetime', 'medido_em', '12: column medido_em: not a timestamp (dd/MM/yyyy HH:mm): "2026-11-20T10:15"'],
      ['bad_type', 'nota', '13: column nota: expected a string, found an object'],
    ]);
  });

  it('quarantines lines that are not a JSON object as bad_json, and bad UTF-8 as bad_encoding', async () => {
    const bad = Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    const buf = Buffer.concat([Buffer.from(`{"id":\n[1,2]\nnull\n42\n"R1"\n`), bad, Buffer.from(`\n${line()}`)]);
    const { rows, rejected, summary } = await parse(buf);
    expect(rows.map((r) => r.lineNo)).toEqual([7]);
    expect(rejected.map((r) => [r.lineNo, r.reason])).toEqual([
      [1, 'bad_json'],
      [2, 'bad_json'],
      [3, 'bad_json'],
      [4, 'bad_json'],
      [5, 'bad_json'],
      [6, 'bad_encoding'],
    ]);
    expect(rejected[0]!.detail).toMatch(/^leituras_20261120\.jsonl:1: not JSON: /);
    expect(rejected[1]!.detail).toBe(`${FILE}:2: not a JSON object: "[1,2]"`);
    expect(rejected[5]).toEqual({
      lineNo: 6,
      reason: 'bad_encoding',
      detail: `${FILE}:6: not valid UTF-8`,
      raw: bad.toString('latin1'),
    });
    expect(summary).toMatchObject({ dataLines: 7, goodRows: 1, rejectedByReason: { bad_json: 5, bad_encoding: 1 } });
  });

  it('records undeclared keys as extra columns, or quarantines their rows when extras are rejected', async () => {
    const text = [line({ lote: 'L-7' }), line({ id: 'R2', turno: 'B', lote: 'L-8' }), line({ id: 'R3' })].join('\n');
    const accepted = await parse(text);
    expect(accepted.rows.map((r) => r.values)).toEqual([
      RECORD_VALUES,
      ['R2', ...RECORD_VALUES.slice(1)],
      ['R3', ...RECORD_VALUES.slice(1)],
    ]);
    expect(accepted.summary).toMatchObject({ columns: [...SOURCES, 'lote', 'turno'], extraColumns: ['lote', 'turno'] });
    const rejecting = await parse(text, { ...FORMAT, extraColumns: 'reject' });
    expect(rejecting.rows.map((r) => r.lineNo)).toEqual([3]);
    expect(reasons(rejecting.rejected)).toEqual([
      ['unexpected_value', 'lote', '1: unexpected field "lote"'],
      ['unexpected_value', 'turno', '2: unexpected field "turno"'],
    ]);
    expect(rejecting.summary).toMatchObject({
      columns: [...SOURCES, 'lote', 'turno'],
      extraColumns: [],
      rejectedRows: 2,
    });
  });

  it('never reads an inherited property as a field', async () => {
    const config: JsonLinesFormatConfig = {
      kind: 'jsonl',
      timeZone: 'UTC',
      columns: [
        { name: 'id', type: 'text' },
        { name: 'constructor', type: 'text', nullable: true },
      ],
    };
    const { rows } = await parse('{"id":"a"}\n{"id":"b","constructor":"c"}\n', config);
    expect(rows.map((r) => r.values)).toEqual([
      ['a', null],
      ['b', 'c'],
    ]);
  });

  it('checks rules and dedups as the delimited format does; blank lines are skipped', async () => {
    const config: JsonLinesFormatConfig = {
      ...FORMAT,
      rules: [{ kind: 'range', column: 'temp_c', max: 100 }],
      dedup: { key: ['id'], keep: 'latest', by: 'lido_em' },
    };
    const lines = [
      line({ lidoEm: '2026-11-20T10:15:00Z' }),
      '',
      line({ id: 'R2', tempC: 100.5 }),
      line({ lidoEm: '2026-11-20T10:14:00Z', seq: 2 }),
      '\r',
      line({ lidoEm: '2026-11-20T10:16:00Z', seq: 3 }),
    ];
    const { events, rows, rejected, summary } = await parse(`${lines.join('\n')}\n`, config);
    expect(events.map((e) => e.kind)).toEqual(['columns', 'rejected', 'row', 'end']);
    expect(rows.map((r) => [r.lineNo, r.values[1]])).toEqual([[6, 3]]);
    expect(reasons(rejected)).toEqual([
      ['out_of_range', 'temp_c', '3: column temp_c: 100.5 is outside the range … to 100'],
    ]);
    expect(summary).toMatchObject({ dataLines: 4, goodRows: 1, rejectedRows: 1, duplicateRows: 2 });
  });

  it('gives identical events whatever byte the stream is cut at', async () => {
    const buf = Buffer.from(
      `\ufeff${line()}\r\n\n${line({ id: 'Ção', nota: '“ç” €' })}\r\nnot json\n${line({ seq: 'x' })}\n${line({ id: 'R1', seq: 8 })}`,
    );
    const whole = await parse(buf, { ...FORMAT, dedup: { key: ['id'], keep: 'first' } });
    expect(whole.summary).toMatchObject({ dataLines: 5, goodRows: 2, rejectedRows: 2, duplicateRows: 1 });
    expect(whole.rows.map((r) => r.values[0])).toEqual(['R1', 'Ção']);
    const cuts: number[] = [];
    for (let i = 0; i <= buf.length; i++) {
      const split = await parse([buf.subarray(0, i), buf.subarray(i)], {
        ...FORMAT,
        dedup: { key: ['id'], keep: 'first' },
      });
      if (!isDeepStrictEqual(split.events, whole.events)) cuts.push(i);
    }
    expect(cuts).toEqual([]);
  });

  it('breaks on a line over the length limit', async () => {
    const { error } = await parse(`${line()}\n${line({ nota: 'x'.repeat(500) })}\n`, { ...FORMAT, maxLineBytes: 400 });
    expect(error).toBeInstanceOf(ContractBrokenError);
    expect((error as ContractBrokenError).details).toMatchObject({ fileName: FILE, line: 2, maxLineBytes: 400 });
  });

  it('is dispatched by parseGenericFile and its config is validated', async () => {
    const events: GenericEvent[] = [];
    for await (const ev of parseGenericFile([line()], FORMAT, { fileName: FILE })) events.push(ev);
    expect(events.map((e) => e.kind)).toEqual(['columns', 'row', 'end']);
    const broken = {
      kind: 'jsonl',
      timeZone: 'UTC',
      columns: [{ name: 'Bad Name', type: 'text', booleanValues: { true: ['s'], false: ['n'] } }],
      extraColumns: 'ignore',
      dedup: { key: ['x'], keep: 'first', by: 'y' },
    } as unknown as JsonLinesFormatConfig;
    expect(genericFormatProblems(broken)).toEqual([
      'columns[0].name: "Bad Name" is not a snake_case name of at most 63 characters',
      'columns[0].booleanValues: only boolean columns take booleanValues',
      'extraColumns: must be "accept" or "reject", found "ignore"',
      'dedup.key[0]: "x" is not a declared column',
      'dedup.by: only keep "latest" takes a by column',
    ]);
    expect(genericFormatProblems({ ...FORMAT, kind: 'xml' } as unknown as JsonLinesFormatConfig)).toEqual([
      'kind: unknown kind "xml" (expected "delimited" or "jsonl")',
    ]);
  });
});
