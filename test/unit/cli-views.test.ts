import { describe, expect, it } from '@jest/globals';
import { render } from '../../infra/cli/client/views.js';

describe('export view', () => {
  const base = {
    exportId: 'production-events-v1-0123456789abcdef',
    featureSet: 'production-events',
    version: 1,
    from: '2026-11-16',
    to: '2026-11-17',
    format: 'parquet',
    training: false,
    links: { temporalUi: 'http://ui/x' },
  };

  it('shows progress while running', () => {
    const lines = render('export', {
      ...base,
      status: 'running',
      asOf: null,
      progress: { asOf: '2026-11-21T03:00:00.000Z', chunksDone: 1, chunksTotal: 2, rows: 1500, files: 1 },
    });
    expect(lines.slice(0, 3)).toEqual([
      'export production-events-v1-0123456789abcdef  production-events v1 2026-11-16..2026-11-17  parquet  running',
      'as of 2026-11-21T03:00:00.000Z',
      'chunks 1/2, 1,500 rows, 1 files so far',
    ]);
  });

  it('lists the files with their checksums once done', () => {
    const lines = render('export', {
      ...base,
      status: 'succeeded',
      asOf: '2026-11-21T03:00:00.000Z',
      manifestKey: 'v1/exports/x/manifest.json',
      manifest: {
        rowCount: 2880,
        byteCount: 99000,
        files: [{ key: 'v1/exports/x/part-00000-000.parquet', rows: 2880, bytes: 99000, sha256: 'ab'.repeat(32) }],
      },
    });
    expect(lines[2]).toBe('2,880 rows, 99,000 bytes; manifest v1/exports/x/manifest.json');
    expect(lines.join('\n')).toMatch(/v1\/exports\/x\/part-00000-000\.parquet\s+2,880\s+99,000\s+abababababababab/);
    expect(lines.at(-1)).toBe('http://ui/x');
  });
});
