import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { ContractBrokenError } from '../../activities/failures.js';
import { parseDelimitedFile, splitFields } from '../../activities/formats/delimited/parser.js';
import type {
  DelimitedFormatConfig,
  FormatColumn,
  GenericEvent,
  GenericRejected,
  GenericSummary,
  GenericValue,
} from '../../activities/formats/format.js';
import { genericFormatProblems, parseGenericFile } from '../../activities/formats/generic/index.js';
import { LAB_FORMAT, LAB_HEADER } from '../support/lab-format.js';

const FILE = 'inspecoes_20261120.csv';
const LAB_COLUMNS = LAB_HEADER.split(';');

/** A lab data line's fields, by header name, in header order. */
const SAMPLE = {
  amostra: 'A20261120-0001',
  sku: 'SKU-PAN-24',
  maquina: 'M07',
  inspecionado_em: '20/11/2026 10:15',
  inspetor: 'Inês Conceição',
  peso_g: '12,50',
  diametro_mm: '24,00',
  revestimento_um: '3,5',
  resultado: 'APROVADO',
  defeito: '',
};

/** The typed values of {@link SAMPLE}, in the config's column order. */
const SAMPLE_VALUES: GenericValue[] = [
  'A20261120-0001',
  'SKU-PAN-24',
  'M07',
  '2026-11-20T13:15:00.000Z',
  'Inês Conceição',
  '12.50',
  '24.00',
  '3.5',
  'APROVADO',
  null,
];

/** A lab data line: {@link SAMPLE} with some fields changed. */
function labLine(changes: Partial<typeof SAMPLE> = {}): string {
  return Object.values({ ...SAMPLE, ...changes }).join(';');
}

/** Encodes text as Windows-1252 (Latin-1 plus the few Windows-only characters these tests use). */
function cp1252(text: string): Buffer {
  const windowsOnly: Record<string, number> = { '€': 0x80, '“': 0x93, '”': 0x94 };
  return Buffer.from(
    [...text].map((c) => {
      const byte = windowsOnly[c] ?? c.charCodeAt(0);
      if (byte > 0xff) throw new Error(`not in Windows-1252: ${c}`);
      return byte;
    }),
  );
}

/** A lab file: the header, then `lines`, each ended by `eol`, in Windows-1252. */
function labFile(lines: string[], eol = '\r\n', header = LAB_HEADER): Buffer {
  return cp1252([header, ...lines].map((l) => `${l}${eol}`).join(''));
}

/** Parses a whole file (one chunk, or the given chunks) and sorts out what came back. */
async function parse(source: Buffer | (Buffer | string)[], config: DelimitedFormatConfig = LAB_FORMAT) {
  const events: GenericEvent[] = [];
  let error: unknown;
  try {
    for await (const ev of parseDelimitedFile(Buffer.isBuffer(source) ? [source] : source, config, { fileName: FILE }))
      events.push(ev);
  } catch (err) {
    error = err;
  }
  const rows = events.flatMap((e) => (e.kind === 'row' ? [{ lineNo: e.lineNo, values: e.values }] : []));
  const rejected: GenericRejected[] = events.flatMap((e) => (e.kind === 'rejected' ? [e.rejected] : []));
  const end = events.find((e) => e.kind === 'end');
  const summary: GenericSummary | undefined = end?.kind === 'end' ? end.summary : undefined;
  return { events, rows, rejected, summary, error };
}

/** A one-column UTF-8 file config. */
function oneColumn(column: FormatColumn, changes: Partial<DelimitedFormatConfig> = {}): DelimitedFormatConfig {
  return {
    kind: 'delimited',
    delimiter: ';',
    header: true,
    encoding: 'utf-8',
    timeZone: 'America/Sao_Paulo',
    columns: [column],
    ...changes,
  };
}

/** Types each text as the one column of a file: its value, or the reason its line was quarantined. */
async function typed(column: FormatColumn, texts: string[], changes: Partial<DelimitedFormatConfig> = {}) {
  const file = Buffer.from([column.source ?? column.name, ...texts].join('\n'));
  const { rows, rejected, error } = await parse(file, oneColumn(column, changes));
  expect(error).toBeUndefined();
  return texts.map(
    (_, i) => rows.find((r) => r.lineNo === i + 2)?.values[0] ?? rejected.find((r) => r.lineNo === i + 2)?.reason,
  );
}

describe('parseDelimitedFile: the lab contract', () => {
  it('decodes Windows-1252 (accents and Windows-only characters) and types every column', async () => {
    const buf = labFile([
      labLine(),
      labLine({
        amostra: 'A20261120-0002',
        inspecionado_em: '20/11/2026 10:16',
        inspetor: 'João Gonçalves',
        peso_g: '-0,5',
        revestimento_um: '',
        resultado: 'REPROVADO',
        defeito: 'RISCO “leve” €2',
      }),
    ]);
    expect([0x80, 0x93, 0x94, 0xea, 0xe7].every((b) => buf.includes(b))).toBe(true);
    const { events, rows, summary, error } = await parse(buf);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.kind)).toEqual(['columns', 'row', 'row', 'end']);
    expect(events[0]).toEqual({ kind: 'columns', columns: LAB_COLUMNS, extraColumns: [] });
    expect(rows).toEqual([
      { lineNo: 2, values: SAMPLE_VALUES },
      {
        lineNo: 3,
        values: [
          'A20261120-0002',
          'SKU-PAN-24',
          'M07',
          '2026-11-20T13:16:00.000Z',
          'João Gonçalves',
          '-0.5',
          '24.00',
          null,
          'REPROVADO',
          'RISCO “leve” €2',
        ],
      },
    ]);
    expect(summary).toEqual({
      columns: LAB_COLUMNS,
      extraColumns: [],
      encoding: 'windows-1252',
      dataLines: 2,
      goodRows: 2,
      rejectedRows: 0,
      rejectedByReason: {},
      duplicateRows: 0,
      bytes: buf.length,
    });
  });

  it('reads iso-8859-1 as Windows-1252 (the WHATWG labels), so 0x80 is €', async () => {
    const buf = labFile([labLine({ inspetor: 'Inês € “ç”' })]);
    const { rows } = await parse(buf, { ...LAB_FORMAT, encoding: 'iso-8859-1' });
    expect(rows[0]!.values[4]).toBe('Inês € “ç”');
  });

  it('reads CRLF, LF, mixed line ends and a last line without its newline alike', async () => {
    const lines = [labLine(), labLine({ amostra: 'A20261120-0002', inspetor: 'João' })];
    const crlf = await parse(labFile(lines, '\r\n'));
    expect(crlf.rows.map((r) => r.values[4])).toEqual(['Inês Conceição', 'João']);
    for (const buf of [
      labFile(lines, '\n'),
      cp1252(`${LAB_HEADER}\r\n${lines[0]}\n${lines[1]}`),
      cp1252(`${LAB_HEADER}\n${lines[0]}\r\n${lines[1]}\r\n`),
    ]) {
      const { rows, summary } = await parse(buf);
      expect(rows).toEqual(crlf.rows);
      expect(summary).toMatchObject({ dataLines: 2, goodRows: 2, rejectedRows: 0 });
    }
  });

  it('skips blank lines (not counted) but keeps physical line numbers', async () => {
    const buf = cp1252(`\r\n${LAB_HEADER}\r\n\r\n${labLine()}\n\n\r\n${labLine({ amostra: 'A2' })}\r\n\r\n`);
    const { rows, summary } = await parse(buf);
    expect(rows.map((r) => r.lineNo)).toEqual([4, 7]);
    expect(summary).toMatchObject({ dataLines: 2, goodRows: 2 });
  });

  it('gives identical events whatever byte the stream is cut at', async () => {
    const buf = labFile(
      [
        labLine(),
        '',
        labLine({ amostra: '"A;02"', inspetor: '"João ""Jota"" Gonçalves"', defeito: '' }),
        labLine({ peso_g: '4x2,37', amostra: 'A03' }),
        labLine({ inspecionado_em: '20/11/2026 11:00', inspetor: '€ “ç”' }),
        'A05;curta',
      ],
      '\r\n',
    );
    const whole = await parse(buf);
    expect(whole.summary).toMatchObject({ dataLines: 5, goodRows: 2, rejectedRows: 2, duplicateRows: 1 });
    const cuts: number[] = [];
    for (let i = 0; i <= buf.length; i++) {
      const split = await parse([buf.subarray(0, i), buf.subarray(i)]);
      if (!isDeepStrictEqual(split.events, whole.events)) cuts.push(i);
    }
    expect(cuts).toEqual([]);
  });

  it('gives identical events at every cut of a UTF-8 file (BOM, multi-byte characters, a bad byte)', async () => {
    const config: DelimitedFormatConfig = { ...LAB_FORMAT, encoding: 'utf-8' };
    const buf = Buffer.concat([
      Buffer.from(`\ufeff${LAB_HEADER}\n${labLine({ inspetor: 'João “ç” €' })}\n`),
      Buffer.from('A02;x;\xff\n', 'latin1'),
      Buffer.from(labLine({ amostra: 'A03', inspetor: 'Inês' })),
    ]);
    const whole = await parse(buf, config);
    expect(whole.rows.map((r) => r.values[4])).toEqual(['João “ç” €', 'Inês']);
    expect(whole.rejected).toEqual([
      { lineNo: 3, reason: 'bad_encoding', detail: `${FILE}:3: not valid UTF-8`, raw: 'A02;x;\xff' },
    ]);
    const cuts: number[] = [];
    for (let i = 0; i <= buf.length; i++) {
      const split = await parse([buf.subarray(0, i), buf.subarray(i)], config);
      if (!isDeepStrictEqual(split.events, whole.events)) cuts.push(i);
    }
    expect(cuts).toEqual([]);
  });

  it('accepts string chunks for a UTF-8 file only', async () => {
    const utf8: DelimitedFormatConfig = { ...LAB_FORMAT, encoding: 'utf-8' };
    const { rows } = await parse([`${LAB_HEADER}\n${labLine().slice(0, 40)}`, `${labLine().slice(40)}\n`], utf8);
    expect(rows).toEqual([{ lineNo: 2, values: SAMPLE_VALUES }]);
    const { error } = await parse([`${LAB_HEADER}\n`]);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(`${FILE}: a file that is not UTF-8 must be read as bytes`);
  });

  it('quarantines each bad row with its reason, column and a message naming file, line and column', async () => {
    const lines = [
      labLine(),
      labLine({ amostra: 'A03', peso_g: '4x2,37' }),
      labLine({ amostra: 'A04', inspecionado_em: '31/02/2026 10:15' }),
      labLine({ amostra: 'A05', resultado: 'APROVADA' }),
      labLine({ amostra: 'A06', resultado: 'REPROVADO', defeito: '' }),
      labLine({ amostra: 'A07', defeito: 'RISCO' }),
      labLine({ amostra: 'A08', sku: '' }),
      'A09;SKU-PAN-24',
      labLine({ amostra: 'A10', inspetor: '"Inês' }),
      labLine({ amostra: 'A11', peso_g: '0,50' }),
    ];
    const config: DelimitedFormatConfig = {
      ...LAB_FORMAT,
      rules: [...LAB_FORMAT.rules!, { kind: 'range', column: 'peso_g', min: 1, max: 100 }],
    };
    const { rows, rejected, summary } = await parse(labFile(lines), config);
    expect(rows.map((r) => r.lineNo)).toEqual([2]);
    const at = (n: number) => `${FILE}:${n}: `;
    expect(rejected).toEqual([
      {
        lineNo: 3,
        reason: 'bad_number',
        column: 'peso_g',
        detail: `${at(3)}column peso_g: not a number with a decimal comma: "4x2,37"`,
        raw: lines[1],
      },
      {
        lineNo: 4,
        reason: 'bad_datetime',
        column: 'inspected_at',
        detail: `${at(4)}column inspected_at: not a timestamp (dd/MM/yyyy HH:mm): "31/02/2026 10:15"`,
        raw: lines[2],
      },
      {
        lineNo: 5,
        reason: 'bad_value',
        column: 'result',
        detail: `${at(5)}column result: "APROVADA" is not one of APROVADO, REPROVADO`,
        raw: lines[3],
      },
      {
        lineNo: 6,
        reason: 'missing_value',
        column: 'defect',
        detail: `${at(6)}column defect: empty, but required when result is "REPROVADO"`,
        raw: lines[4],
      },
      {
        lineNo: 7,
        reason: 'unexpected_value',
        column: 'defect',
        detail: `${at(7)}column defect: "RISCO" given, but must be empty when result is "APROVADO"`,
        raw: lines[5],
      },
      {
        lineNo: 8,
        reason: 'missing_value',
        column: 'sku',
        detail: `${at(8)}column sku: empty`,
        raw: lines[6],
      },
      { lineNo: 9, reason: 'field_count', detail: `${at(9)}expected 10 fields, found 2`, raw: lines[7] },
      {
        lineNo: 10,
        reason: 'field_count',
        detail: `${at(10)}malformed quoting (an unclosed " or text after a closing one)`,
        raw: lines[8],
      },
      {
        lineNo: 11,
        reason: 'out_of_range',
        column: 'peso_g',
        detail: `${at(11)}column peso_g: 0.50 is outside the range 1 to 100`,
        raw: lines[9],
      },
    ]);
    expect(summary).toMatchObject({
      dataLines: 10,
      goodRows: 1,
      rejectedRows: 9,
      duplicateRows: 0,
      rejectedByReason: {
        bad_number: 1,
        bad_datetime: 1,
        bad_value: 1,
        missing_value: 2,
        unexpected_value: 1,
        field_count: 2,
        out_of_range: 1,
      },
    });
  });

  it('quarantines a line that is not valid UTF-8 as bad_encoding, its raw read as Latin-1 so no byte is lost', async () => {
    const line = Buffer.concat([Buffer.from('A02;SKU;M07;20/11/2026 10:15;Jo'), Buffer.from([0xe3, 0x6f])]);
    const buf = Buffer.concat([Buffer.from(`${LAB_HEADER}\r\n`), line, Buffer.from('\r\n')]);
    const { rejected, summary } = await parse(buf, { ...LAB_FORMAT, encoding: 'utf-8' });
    expect(rejected).toEqual([
      { lineNo: 2, reason: 'bad_encoding', detail: `${FILE}:2: not valid UTF-8`, raw: line.toString('latin1') },
    ]);
    expect(summary).toMatchObject({ encoding: 'utf-8', dataLines: 1, rejectedRows: 1, goodRows: 0 });
  });
});

describe('parseDelimitedFile: quoting', () => {
  it('splits RFC 4180 style fields', () => {
    const q = '"';
    expect(splitFields('a;"b;c";"d""e"', ';', q)).toEqual(['a', 'b;c', 'd"e']);
    expect(splitFields('a;;', ';', q)).toEqual(['a', '', '']);
    expect(splitFields('"";x;""', ';', q)).toEqual(['', 'x', '']);
    expect(splitFields('5" tubo;x', ';', q)).toEqual(['5" tubo', 'x']);
    expect(splitFields("'a,b',c", ',', "'")).toEqual(['a,b', 'c']);
    expect(splitFields('"a;b', ';', q)).toBeUndefined();
    expect(splitFields('"a"b;c', ';', q)).toBeUndefined();
  });

  it('reads quoted fields holding the delimiter and doubled quotes; an empty quoted field is NULL', async () => {
    const line = labLine({ amostra: '"A;01"', inspetor: '"Inês ""Nenê"" Conceição"', revestimento_um: '""' });
    const { rows, error } = await parse(labFile([line]));
    expect(error).toBeUndefined();
    expect(rows[0]!.values).toEqual([
      'A;01',
      ...SAMPLE_VALUES.slice(1, 4),
      'Inês "Nenê" Conceição',
      '12.50',
      '24.00',
      null,
      'APROVADO',
      null,
    ]);
  });
});

describe('parseDelimitedFile: header and contract', () => {
  it('maps columns by name, whatever their order in the header', async () => {
    const header = 'sku;amostra;defeito;resultado;revestimento_um;diametro_mm;peso_g;inspetor;inspecionado_em;maquina';
    const line = 'SKU-PAN-24;A20261120-0001;;APROVADO;3,5;24,00;12,50;Inês Conceição;20/11/2026 10:15;M07';
    const { rows, summary } = await parse(labFile([line], '\r\n', header));
    expect(rows[0]!.values).toEqual(SAMPLE_VALUES);
    expect(summary!.columns).toEqual(header.split(';'));
  });

  it('breaks on a renamed column, naming the missing and the unexpected column', async () => {
    const { events, error } = await parse(labFile([labLine()], '\r\n', LAB_HEADER.replace('peso_g', 'peso_gr')));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(ContractBrokenError);
    const broken = error as ContractBrokenError;
    expect(broken.message).toBe(
      `${FILE}: breaking schema change: missing column(s) peso_g; unexpected column(s) peso_gr`,
    );
    expect(broken.details).toMatchObject({
      fileName: FILE,
      line: 1,
      missingColumns: ['peso_g'],
      unexpectedColumns: ['peso_gr'],
      repeatedColumns: [],
    });
  });

  it('accepts and records an extra column, or breaks on it when extras are rejected', async () => {
    const buf = labFile([`${labLine()};L-77`], '\r\n', `${LAB_HEADER};lote`);
    const { events, rows, summary } = await parse(buf);
    expect(events[0]).toEqual({ kind: 'columns', columns: [...LAB_COLUMNS, 'lote'], extraColumns: ['lote'] });
    expect(rows[0]!.values).toEqual(SAMPLE_VALUES);
    expect(summary).toMatchObject({ columns: [...LAB_COLUMNS, 'lote'], extraColumns: ['lote'], goodRows: 1 });
    const { error } = await parse(buf, { ...LAB_FORMAT, extraColumns: 'reject' });
    expect(error).toBeInstanceOf(ContractBrokenError);
    expect((error as Error).message).toBe(`${FILE}: breaking schema change: unexpected column(s) lote`);
  });

  it('reads a non-required column absent from the header as NULL', async () => {
    const config: DelimitedFormatConfig = {
      ...LAB_FORMAT,
      columns: LAB_FORMAT.columns.map((c) => (c.name === 'revestimento_um' ? { ...c, required: false } : c)),
    };
    const header = LAB_HEADER.replace(';revestimento_um', '');
    const line = labLine().replace(';3,5;', ';');
    const { rows, error } = await parse(labFile([line], '\r\n', header), config);
    expect(error).toBeUndefined();
    expect(rows[0]!.values).toEqual([...SAMPLE_VALUES.slice(0, 7), null, ...SAMPLE_VALUES.slice(8)]);
  });

  it('breaks on a repeated column, an empty file, a file of blank lines and a line over the limit', async () => {
    const repeated = await parse(labFile([], '\r\n', `${LAB_HEADER};sku`));
    expect((repeated.error as Error).message).toBe(`${FILE}: breaking schema change: repeated column(s) sku`);
    const empty = await parse(Buffer.alloc(0));
    expect(empty.error).toBeInstanceOf(ContractBrokenError);
    expect((empty.error as Error).message).toBe(`${FILE}: empty file`);
    const blank = await parse(Buffer.from('\r\n\n'));
    expect((blank.error as Error).message).toBe(`${FILE}: no header line (only blank lines)`);
    const long = await parse(labFile([labLine(), labLine({ inspetor: 'x'.repeat(300) })]), {
      ...LAB_FORMAT,
      maxLineBytes: 200,
    });
    expect(long.error).toBeInstanceOf(ContractBrokenError);
    expect((long.error as Error).message).toMatch(
      /^inspecoes_20261120\.csv: line 3 is \d+ bytes or more, over the 200-byte limit$/,
    );
    expect((long.error as ContractBrokenError).details).toMatchObject({ line: 3, maxLineBytes: 200 });
  });

  it('strips a UTF-8 BOM starting a UTF-8 file', async () => {
    const buf = Buffer.from(`\ufeff${LAB_HEADER}\n${labLine()}\n`);
    const { rows, summary } = await parse(buf, { ...LAB_FORMAT, encoding: 'utf-8' });
    expect(summary!.columns[0]).toBe('amostra');
    expect(rows[0]!.values).toEqual(SAMPLE_VALUES);
  });
});

describe('parseDelimitedFile: dedup', () => {
  const lines = [
    labLine({ amostra: 'A1', inspecionado_em: '20/11/2026 10:15', peso_g: '12,50' }),
    labLine({ amostra: 'A2', inspecionado_em: '20/11/2026 10:16', peso_g: '12,60' }),
    labLine({ amostra: 'A1', inspecionado_em: '20/11/2026 10:20', peso_g: '13,00' }),
    labLine({ amostra: 'A1', inspecionado_em: '20/11/2026 10:18', peso_g: '14,00' }),
    labLine({ amostra: 'A2', inspecionado_em: '20/11/2026 10:16', peso_g: '15,00' }),
    labLine({ amostra: 'A3', peso_g: 'x' }),
  ];

  it('keeps the latest inspection per sample (ties: the later line), emitting the kept rows at the end', async () => {
    const { events, rows, summary } = await parse(labFile(lines));
    expect(events.map((e) => e.kind)).toEqual(['columns', 'rejected', 'row', 'row', 'end']);
    expect(rows.map((r) => [r.lineNo, r.values[0], r.values[5]])).toEqual([
      [4, 'A1', '13.00'],
      [6, 'A2', '15.00'],
    ]);
    expect(summary).toMatchObject({ dataLines: 6, goodRows: 2, rejectedRows: 1, duplicateRows: 3 });
    const s = summary!;
    expect(s.goodRows + s.rejectedRows + s.duplicateRows).toBe(s.dataLines);
  });

  it('keeps the first row per key, streaming it at once', async () => {
    const config: DelimitedFormatConfig = { ...LAB_FORMAT, dedup: { key: ['amostra'], keep: 'first' } };
    const { events, rows, summary } = await parse(labFile(lines), config);
    expect(events.map((e) => e.kind)).toEqual(['columns', 'row', 'row', 'rejected', 'end']);
    expect(rows.map((r) => [r.lineNo, r.values[0], r.values[5]])).toEqual([
      [2, 'A1', '12.50'],
      [3, 'A2', '12.60'],
    ]);
    expect(summary).toMatchObject({ dataLines: 6, goodRows: 2, rejectedRows: 1, duplicateRows: 3 });
  });

  it('dedups on a composite key and orders decimals exactly', async () => {
    const config: DelimitedFormatConfig = {
      ...LAB_FORMAT,
      dedup: { key: ['amostra', 'maquina'], keep: 'latest', by: 'peso_g' },
    };
    const file = labFile([
      labLine({ amostra: 'A1', maquina: 'M07', peso_g: '9,99' }),
      labLine({ amostra: 'A1', maquina: 'M08', peso_g: '10,0' }),
      labLine({ amostra: 'A1', maquina: 'M07', peso_g: '10,00' }),
      labLine({ amostra: 'A1', maquina: 'M08', peso_g: '9,999' }),
    ]);
    const { rows, summary } = await parse(file, config);
    expect(rows.map((r) => [r.lineNo, r.values[2], r.values[5]])).toEqual([
      [3, 'M08', '10.0'],
      [4, 'M07', '10.00'],
    ]);
    expect(summary).toMatchObject({ goodRows: 2, duplicateRows: 2 });
  });
});

describe('parseDelimitedFile: typing values', () => {
  it('reads decimals and doubles with a decimal comma, integers strictly', async () => {
    const config: DelimitedFormatConfig = {
      ...oneColumn({ name: 'id', type: 'text' }),
      decimal: ',',
      columns: [
        { name: 'id', type: 'text' },
        { name: 'd', type: 'decimal', nullable: true },
        { name: 'x', type: 'double', nullable: true },
        { name: 'n', type: 'integer', nullable: true },
        { name: 'b', type: 'bigint', nullable: true },
      ],
    };
    const lines = [
      '1;12,50;12,5;-12;9007199254740991',
      '2;-0,5;1,5e3;007;-9007199254740991',
      '3;12.50;;;',
      '4;1.234,5;;;',
      '5;,5;;;',
      '6;;12.5;;',
      '7;;1e400;;',
      '8;;NaN;;',
      '9;;;1,0;',
      '10;;;2147483648;',
      '11;;;;9007199254740992',
      '12;+1;;;',
    ];
    const { rows, rejected } = await parse(Buffer.from(['id;d;x;n;b', ...lines].join('\n')), config);
    expect(rows.map((r) => r.values)).toEqual([
      ['1', '12.50', 12.5, -12, 9007199254740991],
      ['2', '-0.5', 1500, 7, -9007199254740991],
    ]);
    expect(rejected.map((r) => [r.reason, r.detail.slice(FILE.length + 1)])).toEqual([
      ['bad_number', '4: column d: not a number with a decimal comma: "12.50"'],
      ['bad_number', '5: column d: not a number with a decimal comma: "1.234,5"'],
      ['bad_number', '6: column d: not a number with a decimal comma: ",5"'],
      ['bad_number', '7: column x: not a number with a decimal comma: "12.5"'],
      ['bad_number', '8: column x: not a number with a decimal comma: "1e400"'],
      ['bad_number', '9: column x: not a number with a decimal comma: "NaN"'],
      ['bad_number', '10: column n: not an integer: "1,0"'],
      ['bad_number', '11: column n: outside the integer range: "2147483648"'],
      ['bad_number', '12: column b: outside the bigint range: "9007199254740992"'],
      ['bad_number', '13: column d: not a number with a decimal comma: "+1"'],
    ]);
  });

  it('reads decimals with a decimal point by default', async () => {
    expect(await typed({ name: 'd', type: 'decimal' }, ['12.50', '-0.5', '12,50', '1e3', '.5'])).toEqual([
      '12.50',
      '-0.5',
      'bad_number',
      'bad_number',
      'bad_number',
    ]);
  });

  it('reads dd/MM/yyyy HH:mm in São Paulo as the right UTC instant', async () => {
    const ts: FormatColumn = { name: 'ts', type: 'timestamp', pattern: 'dd/MM/yyyy HH:mm' };
    const texts = ['20/11/2026 10:15', '31/12/2026 23:59', '31/02/2026 10:15', '20/11/2026 24:10', '2026-11-20 10:15'];
    expect(await typed(ts, [...texts, '20/11/26 10:15', '04/11/2018 00:30', '04/11/2018 01:00'])).toEqual([
      '2026-11-20T13:15:00.000Z',
      '2027-01-01T02:59:00.000Z',
      'bad_datetime',
      'bad_datetime',
      'bad_datetime',
      'bad_datetime',
      'bad_datetime', // Brazil's 2018 daylight saving started at midnight: 00:30 never happened
      '2018-11-04T03:00:00.000Z',
    ]);
  });

  it('rejects a local time skipped by a daylight-saving jump, and reads an ambiguous one as the earlier instant', async () => {
    const ts: FormatColumn = { name: 'ts', type: 'timestamp', pattern: 'dd/MM/yyyy HH:mm' };
    const ny = { timeZone: 'America/New_York' };
    const texts = ['08/03/2026 01:59', '08/03/2026 02:30', '08/03/2026 03:00', '01/11/2026 01:30', '01/11/2026 02:30'];
    expect(await typed(ts, texts, ny)).toEqual([
      '2026-03-08T06:59:00.000Z',
      'bad_datetime',
      '2026-03-08T07:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
    ]);
    const { rejected } = await parse(Buffer.from('ts\n08/03/2026 02:30\n'), oneColumn(ts, ny));
    expect(rejected[0]!.detail).toBe(
      `${FILE}:2: column ts: "08/03/2026 02:30" does not exist in America/New_York (a daylight-saving gap)`,
    );
  });

  it('reads other Luxon patterns (variable width, month names, offsets) the same way', async () => {
    const ny = { timeZone: 'America/New_York' };
    const short: FormatColumn = { name: 'ts', type: 'timestamp', pattern: 'd/M/yyyy H:mm' };
    expect(await typed(short, ['8/3/2026 2:30', '8/3/2026 3:30', '20/11/2026 10:15', '20/11/2026 x'], ny)).toEqual([
      'bad_datetime',
      '2026-03-08T07:30:00.000Z',
      '2026-11-20T15:15:00.000Z',
      'bad_datetime',
    ]);
    const named: FormatColumn = { name: 'ts', type: 'timestamp', pattern: 'dd LLL yyyy HH:mm' };
    expect(await typed(named, ['20 Nov 2026 10:15'])).toEqual(['2026-11-20T13:15:00.000Z']);
    const offset: FormatColumn = { name: 'ts', type: 'timestamp', pattern: 'yyyy-MM-dd HH:mm ZZ' };
    expect(await typed(offset, ['2026-11-20 10:15 +01:00', '2026-03-08 02:30 -05:00'], ny)).toEqual([
      '2026-11-20T09:15:00.000Z',
      '2026-03-08T07:30:00.000Z',
    ]);
  });

  it('reads ISO-8601 timestamps without a pattern (no offset: local to the zone; never a bare time)', async () => {
    const ts: FormatColumn = { name: 'ts', type: 'timestamp' };
    const texts = [
      '2026-11-20T10:15:00-03:00',
      '2026-11-20T10:15:00Z',
      '2026-11-20T10:15',
      '2026-11-20',
      '2026-11-20T10:15:00.5Z',
      '2026-11-20T10:15:00.123456Z',
      '2026-11-20T10:15:00+0100',
      '10:15',
      '2026-02-30T10:00',
      '2026-11-20 10:15',
    ];
    expect(await typed(ts, texts)).toEqual([
      '2026-11-20T13:15:00.000Z',
      '2026-11-20T10:15:00.000Z',
      '2026-11-20T13:15:00.000Z',
      '2026-11-20T03:00:00.000Z',
      '2026-11-20T10:15:00.500Z',
      '2026-11-20T10:15:00.123Z',
      '2026-11-20T09:15:00.000Z',
      'bad_datetime',
      'bad_datetime',
      'bad_datetime',
    ]);
    expect(await typed(ts, ['2026-03-08T02:30', '2026-03-08T02:30-05:00'], { timeZone: 'America/New_York' })).toEqual([
      'bad_datetime',
      '2026-03-08T07:30:00.000Z',
    ]);
  });

  it('reads dates as written, ISO-8601 or with a pattern (no zone can shift them)', async () => {
    const iso: FormatColumn = { name: 'd', type: 'date' };
    expect(await typed(iso, ['2026-11-20', '2026-02-29', '2028-02-29', '20/11/2026', '2026-11-20T10:00'])).toEqual([
      '2026-11-20',
      'bad_date',
      '2028-02-29',
      'bad_date',
      'bad_date',
    ]);
    const br: FormatColumn = { name: 'd', type: 'date', pattern: 'dd/MM/yyyy' };
    expect(await typed(br, ['20/11/2026', '04/11/2018', '32/01/2026'])).toEqual([
      '2026-11-20',
      '2018-11-04',
      'bad_date',
    ]);
    const short: FormatColumn = { name: 'd', type: 'date', pattern: 'd/M/yyyy' };
    expect(await typed(short, ['4/11/2018', '4/13/2018'])).toEqual(['2018-11-04', 'bad_date']);
  });

  it('reads booleans as declared (default true/false) into t/f', async () => {
    expect(await typed({ name: 'ok', type: 'boolean' }, ['true', 'false', 'TRUE', '1'])).toEqual([
      't',
      'f',
      'bad_boolean',
      'bad_boolean',
    ]);
    const sim: FormatColumn = {
      name: 'ok',
      type: 'boolean',
      booleanValues: { true: ['S', 'sim'], false: ['N', 'não'] },
    };
    expect(await typed(sim, ['S', 'sim', 'N', 'não', 'x'])).toEqual(['t', 't', 'f', 'f', 'bad_boolean']);
    const { rejected } = await parse(Buffer.from('ok\nx\n'), oneColumn(sim));
    expect(rejected[0]!.detail).toBe(`${FILE}:2: column ok: not one of "S", "sim", "N", "não": "x"`);
  });
});

describe('genericFormatProblems', () => {
  it('finds none in the lab contract', () => {
    expect(genericFormatProblems(LAB_FORMAT)).toEqual([]);
  });

  it('names each field at fault', () => {
    const broken = {
      ...LAB_FORMAT,
      delimiter: ';;',
      timeZone: 'America/Sao Paulo',
      columns: [
        ...LAB_FORMAT.columns.slice(0, 3),
        { name: 'inspected_at', source: 'inspecionado_em', type: 'decimall' },
        { name: 'sku', type: 'text', pattern: 'dd' },
      ],
      rules: [
        { kind: 'allowed', column: 'resultado', values: ['A'] },
        { kind: 'range', column: 'sku', min: 5, max: 1 },
        { kind: 'sometimes', column: 'sku' },
      ],
      dedup: { key: ['amostra'], keep: 'latest' },
    } as unknown as DelimitedFormatConfig;
    expect(genericFormatProblems(broken)).toEqual([
      'delimiter: must be one character (not a line break), found ";;"',
      'columns[3].type: unknown type "decimall"',
      'columns[4].name: "sku" is declared twice',
      'columns[4].source: "sku" is read by two columns',
      'columns[4].pattern: only date and timestamp columns take a pattern',
      'timeZone: not an IANA time zone: "America/Sao Paulo"',
      'rules[0].column: "resultado" is not a declared column',
      'rules[1].column: a range needs a numeric column, not text',
      'rules[1]: min 5 is greater than max 1',
      'rules[2].kind: unknown rule "sometimes" (expected range, allowed, requiredWhen or emptyUnless)',
      'dedup.by: required when keep is "latest"',
    ]);
  });

  it('is checked before a parse starts', async () => {
    const { error } = await parse(labFile([]), { ...LAB_FORMAT, quote: ';' });
    expect((error as Error).message).toBe('invalid format config: quote: must differ from the delimiter ";"');
  });
});

describe('parseGenericFile', () => {
  it('parses a delimited config as delimited text', async () => {
    const events: GenericEvent[] = [];
    for await (const ev of parseGenericFile([labFile([labLine()])], LAB_FORMAT, { fileName: FILE })) events.push(ev);
    expect(events.map((e) => e.kind)).toEqual(['columns', 'row', 'end']);
    expect(events[1]).toEqual({ kind: 'row', lineNo: 2, values: SAMPLE_VALUES });
  });
});
