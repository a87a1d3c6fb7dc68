import { describe, expect, it } from '@jest/globals';
import { parseInvocation, UsageError, type Invocation } from '../../infra/cli/client/args.js';

const env = {};
const call = (argv: string[], e: NodeJS.ProcessEnv = env) => {
  const inv = parseInvocation(argv, e);
  if (inv.kind !== 'call') throw new Error('expected a call');
  return inv;
};
const usageError = (argv: string[]): string => {
  try {
    parseInvocation(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('fabrica client argument parsing', () => {
  it('maps each command to its REST call', () => {
    const cases: [string[], Partial<Extract<Invocation, { kind: 'call' }>['action']>][] = [
      [['pipelines'], { method: 'GET', path: '/pipelines', view: 'pipelines' }],
      [['pipelines', 'factory-machine-signals'], { method: 'GET', path: '/pipelines/factory-machine-signals' }],
      [
        ['runs', 'start', 'p1', 'M07@2026-11-20T10', '--force'],
        { method: 'POST', path: '/pipelines/p1/runs', body: { partition: 'M07@2026-11-20T10', force: true } },
      ],
      [['runs', 'start', 'p1', 'M07@2026-11-20T10'], { body: { partition: 'M07@2026-11-20T10', force: false } }],
      [['runs', 'get', 'abc'], { method: 'GET', path: '/runs/abc', view: 'run' }],
      [['runs', 'cancel', 'abc'], { method: 'POST', path: '/runs/abc/cancel' }],
      [['backfills', 'get', 'bf-1'], { method: 'GET', path: '/backfills/bf-1', view: 'backfill' }],
      [['backfills', 'pause', 'bf-1'], { method: 'POST', path: '/backfills/bf-1/pause' }],
      [['backfills', 'resume', 'bf-1'], { method: 'POST', path: '/backfills/bf-1/resume' }],
      [['backfills', 'cancel', 'bf-1'], { method: 'POST', path: '/backfills/bf-1/cancel' }],
      [['exports', 'get', 'x/1'], { method: 'GET', path: '/feature-exports/x%2F1' }],
      [
        ['datasets', 'machine_yield_hourly', 'M07@2026-11-20T10'],
        { method: 'GET', path: '/datasets/machine_yield_hourly/partitions/M07%402026-11-20T10' },
      ],
    ];
    for (const [argv, action] of cases) expect(call(argv).action).toMatchObject(action);
  });

  it('builds list filters and request bodies from options placed anywhere', () => {
    expect(call(['runs', '--status', 'failed', 'list', '--page', '3', '--pipeline', 'p1']).action).toEqual({
      kind: 'request',
      method: 'GET',
      path: '/runs',
      view: 'runs',
      query: { pipeline: 'p1', status: 'failed', page: '3' },
    });
    const start = call([
      'backfills',
      'start',
      'p1',
      '--from',
      '2026-01-05T06',
      '--to=2026-01-09T17',
      '--machines',
      'M01, M02,',
      '--max-concurrency',
      '8',
      '--mode',
      'missing',
    ]);
    expect(start.action).toMatchObject({
      method: 'POST',
      path: '/pipelines/p1/backfills',
      body: {
        from: '2026-01-05T06',
        to: '2026-01-09T17',
        machines: ['M01', 'M02'],
        maxConcurrency: 8,
        mode: 'missing',
      },
    });
    expect(call(['backfills', 'start', 'p1', '--from', '2026-01-05T06', '--to', '2026-01-05T07']).action).toMatchObject(
      {
        body: { from: '2026-01-05T06', to: '2026-01-05T07' },
      },
    );
    expect(
      call(['exports', 'start', 'fs1', '--from', '2026-01-01', '--to', '2026-02-01', '--as-of', '2026-03-01']).action,
    ).toMatchObject({
      path: '/feature-exports',
      body: { featureSet: 'fs1', from: '2026-01-01', to: '2026-02-01', asOf: '2026-03-01', format: 'parquet' },
    });
  });

  it('parses a watch with its interval', () => {
    expect(call(['backfills', 'watch', 'bf-1', '--interval-ms', '50']).action).toEqual({
      kind: 'watch',
      backfillId: 'bf-1',
      intervalMs: 50,
    });
    expect(call(['backfills', 'watch', 'bf-1']).action).toMatchObject({ intervalMs: 2000 });
  });

  it('takes the API URL, key and --json from flags, then the environment, then defaults', () => {
    expect(call(['pipelines'])).toMatchObject({ api: 'http://127.0.0.1:3000/api/v1', key: undefined, json: false });
    const fromEnv = call(['pipelines'], { FABRICA_API_URL: 'http://api:8080/', FABRICA_API_KEY: 'k1' });
    expect(fromEnv).toMatchObject({ api: 'http://api:8080/api/v1', key: 'k1' });
    const flags = call(['pipelines', '--api', 'https://x.example/api/v1', '--key', 'k2', '--json'], {
      FABRICA_API_KEY: 'k1',
    });
    expect(flags).toMatchObject({ api: 'https://x.example/api/v1', key: 'k2', json: true });
  });

  it('asks for help with no command, help or --help', () => {
    for (const argv of [[], ['help'], ['runs', '--help'], ['-h']])
      expect(parseInvocation(argv, env)).toEqual({ kind: 'help' });
  });

  it('refuses bad command lines with a message naming the problem', () => {
    expect(usageError(['runs'])).toContain('"runs" needs a subcommand');
    expect(usageError(['runs', 'frob'])).toContain('unknown command "runs frob"');
    expect(usageError(['runs', 'start', 'p1'])).toContain('fabrica runs start <pipeline> <partition>');
    expect(usageError(['runs', 'get', 'a', 'b'])).toContain('fabrica runs get <runId>');
    expect(usageError(['pipelines', 'a', 'b'])).toContain('fabrica pipelines [id]');
    expect(usageError(['runs', 'get', 'a', '--force'])).toContain('does not take --force');
    expect(usageError(['runs', 'list', '--bogus'])).toContain("'--bogus'");
    expect(usageError(['runs', 'list', '--page'])).toContain('--page');
    expect(usageError(['runs', 'list', '--page', '0'])).toContain('--page must be an integer >= 1');
    expect(usageError(['runs', 'list', '--page', 'x'])).toContain('--page');
    expect(usageError(['backfills', 'start', 'p1', '--to', '2026-01-05T06'])).toContain('--from is required');
    expect(usageError(['backfills', 'start', 'p1', '--from', '2026-01-05 06', '--to', '2026-01-05T06'])).toContain(
      '--from must be a local hour YYYY-MM-DDTHH or a day YYYY-MM-DD',
    );
    expect(
      usageError(['backfills', 'start', 'p1', '--from', '2026-01-05T06', '--to', '2026-01-05T07', '--mode', 'some']),
    ).toContain('--mode must be one of all, missing, failed, dry-run');
    expect(
      usageError(['backfills', 'start', 'p1', '--from', '2026-01-05T06', '--to', '2026-01-05T07', '--machines', ',']),
    ).toContain('--machines');
    expect(usageError(['backfills', 'watch', 'bf', '--interval-ms', '1'])).toContain('--interval-ms');
    expect(usageError(['exports', 'start', 'fs', '--from', 'a', '--to', 'b', '--format', 'xml'])).toContain('--format');
    expect(usageError(['pipelines', '--api', 'ftp://x'])).toContain('--api must be an http(s) URL');
  });
});
