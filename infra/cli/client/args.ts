import { parseArgs } from 'node:util';

/** Bad command line: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** How a response is shown to a human (with `--json` the raw body is printed instead). */
export type ViewKind =
  | 'pipelines'
  | 'pipeline'
  | 'run'
  | 'runs'
  | 'run-accepted'
  | 'backfill'
  | 'export'
  | 'partition'
  | 'schedules'
  | 'schedule'
  | 'alerts'
  | 'alert'
  | 'deliveries'
  | 'silence';

/** What one invocation does: one REST call, or polling a backfill until it ends. */
export type Action =
  | {
      kind: 'request';
      method: 'GET' | 'POST';
      path: string;
      query?: Record<string, string>;
      body?: Record<string, unknown>;
      view: ViewKind;
    }
  | { kind: 'watch'; backfillId: string; intervalMs: number };

/** A parsed command line. */
export type Invocation =
  { kind: 'help' } | { kind: 'call'; api: string; key: string | undefined; json: boolean; action: Action };

const OPTIONS = {
  api: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  force: { type: 'boolean' },
  pipeline: { type: 'string' },
  status: { type: 'string' },
  partition: { type: 'string' },
  page: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  machines: { type: 'string' },
  'max-concurrency': { type: 'string' },
  mode: { type: 'string' },
  'interval-ms': { type: 'string' },
  'as-of': { type: 'string' },
  format: { type: 'string' },
  training: { type: 'boolean' },
  all: { type: 'boolean' },
  kind: { type: 'string' },
  comment: { type: 'string' },
  for: { type: 'string' },
  reason: { type: 'string' },
  channel: { type: 'string' },
} as const;

/** Option values as parsed (strings and booleans). */
export type Options = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

interface CommandDef {
  /** Positional argument names; a trailing `?` marks an optional one. */
  args: string[];
  options: (keyof typeof OPTIONS)[];
  build(a: Record<string, string>, o: Options): Action;
}

const GLOBAL: (keyof typeof OPTIONS)[] = ['api', 'key', 'json', 'help'];
const PERIOD = /^\d{4}-\d{2}-\d{2}(T\d{2})?$/;
const seg = encodeURIComponent;
const get = (path: string, view: ViewKind, query?: Record<string, string>): Action => ({
  kind: 'request',
  method: 'GET',
  path,
  view,
  ...(query ? { query } : {}),
});
const post = (path: string, view: ViewKind, body?: Record<string, unknown>): Action => ({
  kind: 'request',
  method: 'POST',
  path,
  view,
  ...(body ? { body } : {}),
});

function str(o: Options, name: keyof typeof OPTIONS): string | undefined {
  const v = o[name];
  return typeof v === 'string' ? v : undefined;
}

function required(o: Options, name: keyof typeof OPTIONS, hint: string): string {
  const v = str(o, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required (${hint})`);
  return v;
}

function int(o: Options, name: keyof typeof OPTIONS, min: number): number | undefined {
  const v = str(o, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`);
  return Number(v);
}

function oneOf<T extends string>(o: Options, name: keyof typeof OPTIONS, allowed: readonly T[]): T | undefined {
  const v = str(o, name);
  if (v !== undefined && !allowed.includes(v as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T | undefined;
}

function hour(o: Options, name: 'from' | 'to'): string {
  const v = required(o, name, 'YYYY-MM-DDTHH');
  if (!PERIOD.test(v))
    throw new UsageError(`--${name} must be a local hour YYYY-MM-DDTHH or a day YYYY-MM-DD, got "${v}"`);
  return v;
}

function defined<T>(entries: Record<string, T | undefined>): Record<string, T> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Record<string, T>;
}

function backfillStart(a: Record<string, string>, o: Options): Action {
  const machines = str(o, 'machines')
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (machines?.length === 0) throw new UsageError('--machines needs at least one machine, e.g. M01,M02');
  const body = defined<unknown>({
    from: hour(o, 'from'),
    to: hour(o, 'to'),
    machines,
    maxConcurrency: int(o, 'max-concurrency', 1),
    mode: oneOf(o, 'mode', ['all', 'missing', 'failed', 'dry-run']),
  });
  return post(`/pipelines/${seg(a.pipeline!)}/backfills`, 'backfill', body);
}

function exportStart(a: Record<string, string>, o: Options): Action {
  const body = defined<unknown>({
    featureSet: a.featureSet,
    from: required(o, 'from', 'a date'),
    to: required(o, 'to', 'a date'),
    asOf: str(o, 'as-of'),
    format: oneOf(o, 'format', ['parquet', 'csv']) ?? 'parquet',
    training: o.training === true ? true : undefined,
  });
  return post('/feature-exports', 'export', body);
}

/** `--for 90m|2h|1d` as minutes. */
function minutes(o: Options): number {
  const v = required(o, 'for', 'a duration such as 30m, 2h or 1d');
  const m = /^(\d+)(m|h|d)$/.exec(v);
  if (!m || Number(m[1]) <= 0) throw new UsageError(`--for must be a duration such as 30m, 2h or 1d, got "${v}"`);
  return Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as 'm' | 'h' | 'd'];
}

function alertId(a: Record<string, string>, name: string): string {
  const v = a[name]!;
  if (!/^[1-9]\d{0,14}$/.test(v)) throw new UsageError(`${name} must be a positive integer, got "${v}"`);
  return v;
}

const backfillAction =
  (verb: 'pause' | 'resume' | 'cancel'): CommandDef['build'] =>
  (a) =>
    post(`/backfills/${seg(a.backfillId!)}/${verb}`, 'backfill');

/** Every client command, keyed by its words. */
const COMMANDS: Record<string, CommandDef> = {
  pipelines: {
    args: ['id?'],
    options: [],
    build: (a) => (a.id ? get(`/pipelines/${seg(a.id)}`, 'pipeline') : get('/pipelines', 'pipelines')),
  },
  'runs start': {
    args: ['pipeline', 'partition'],
    options: ['force'],
    build: (a, o) =>
      post(`/pipelines/${seg(a.pipeline!)}/runs`, 'run-accepted', { partition: a.partition, force: o.force === true }),
  },
  'runs get': { args: ['runId'], options: [], build: (a) => get(`/runs/${seg(a.runId!)}`, 'run') },
  'runs list': {
    args: [],
    options: ['pipeline', 'status', 'partition', 'page'],
    build: (_a, o) =>
      get(
        '/runs',
        'runs',
        defined({
          pipeline: str(o, 'pipeline'),
          status: str(o, 'status'),
          partition: str(o, 'partition'),
          page: int(o, 'page', 1)?.toString(),
        }),
      ),
  },
  'runs cancel': { args: ['runId'], options: [], build: (a) => post(`/runs/${seg(a.runId!)}/cancel`, 'run-accepted') },
  'backfills start': {
    args: ['pipeline'],
    options: ['from', 'to', 'machines', 'max-concurrency', 'mode'],
    build: backfillStart,
  },
  'backfills get': {
    args: ['backfillId'],
    options: [],
    build: (a) => get(`/backfills/${seg(a.backfillId!)}`, 'backfill'),
  },
  'backfills pause': { args: ['backfillId'], options: [], build: backfillAction('pause') },
  'backfills resume': { args: ['backfillId'], options: [], build: backfillAction('resume') },
  'backfills cancel': { args: ['backfillId'], options: [], build: backfillAction('cancel') },
  'backfills watch': {
    args: ['backfillId'],
    options: ['interval-ms'],
    build: (a, o) => ({ kind: 'watch', backfillId: a.backfillId!, intervalMs: int(o, 'interval-ms', 10) ?? 2000 }),
  },
  schedules: {
    args: ['id?'],
    options: [],
    build: (a) => (a.id ? get(`/schedules/${seg(a.id)}`, 'schedule') : get('/schedules', 'schedules')),
  },
  'schedules pause': {
    args: ['scheduleId'],
    options: [],
    build: (a) => post(`/schedules/${seg(a.scheduleId!)}/pause`, 'schedule'),
  },
  'schedules resume': {
    args: ['scheduleId'],
    options: [],
    build: (a) => post(`/schedules/${seg(a.scheduleId!)}/resume`, 'schedule'),
  },
  'schedules trigger': {
    args: ['scheduleId'],
    options: [],
    build: (a) => post(`/schedules/${seg(a.scheduleId!)}/trigger`, 'schedule'),
  },
  'exports start': {
    args: ['featureSet'],
    options: ['from', 'to', 'as-of', 'format', 'training'],
    build: exportStart,
  },
  'exports get': {
    args: ['exportId'],
    options: [],
    build: (a) => get(`/feature-exports/${seg(a.exportId!)}`, 'export'),
  },
  'feature-sets': {
    args: ['id?'],
    options: [],
    build: (a) => get(a.id ? `/feature-sets/${seg(a.id)}` : '/feature-sets', 'export'),
  },
  features: {
    args: ['featureSet', 'entityId'],
    options: [],
    build: (a) => get(`/features/${seg(a.featureSet!)}/${seg(a.entityId!)}`, 'export'),
  },
  alerts: {
    args: [],
    options: ['all', 'pipeline', 'kind'],
    build: (_a, o) =>
      get(
        '/alerts',
        'alerts',
        defined({ state: o.all === true ? 'all' : undefined, pipeline: str(o, 'pipeline'), kind: str(o, 'kind') }),
      ),
  },
  'alerts get': { args: ['alertId'], options: [], build: (a) => get(`/alerts/${alertId(a, 'alertId')}`, 'alert') },
  'alerts ack': {
    args: ['alertId'],
    options: ['comment'],
    build: (a, o) => post(`/alerts/${alertId(a, 'alertId')}/ack`, 'alert', defined({ comment: str(o, 'comment') })),
  },
  'alerts silence': {
    args: [],
    options: ['pipeline', 'kind', 'partition', 'for', 'reason'],
    build: (_a, o) =>
      post(
        '/alert-silences',
        'silence',
        defined<unknown>({
          pipeline: str(o, 'pipeline'),
          kind: str(o, 'kind'),
          partitionPrefix: str(o, 'partition'),
          minutes: minutes(o),
          reason: required(o, 'reason', 'why the alerts are silenced'),
        }),
      ),
  },
  'alerts unsilence': {
    args: ['silenceId'],
    options: [],
    build: (a) => post(`/alert-silences/${alertId(a, 'silenceId')}/expire`, 'silence'),
  },
  'alerts deliveries': {
    args: [],
    options: ['status', 'channel'],
    build: (_a, o) =>
      get('/alert-deliveries', 'deliveries', defined({ status: str(o, 'status'), channel: str(o, 'channel') })),
  },
  datasets: {
    args: ['dataset', 'partition'],
    options: [],
    build: (a) => get(`/datasets/${seg(a.dataset!)}/partitions/${seg(a.partition!)}`, 'partition'),
  },
};

/** The client's command groups (first word); the CLI routes these to {@link parseInvocation}. */
export const CLIENT_COMMANDS = [
  'pipelines',
  'runs',
  'backfills',
  'schedules',
  'exports',
  'feature-sets',
  'features',
  'datasets',
  'alerts',
];

function findCommand(positionals: string[]): { name: string; def: CommandDef; rest: string[] } {
  const [group = '', sub = ''] = positionals;
  const two = COMMANDS[`${group} ${sub}`];
  if (two) return { name: `${group} ${sub}`, def: two, rest: positionals.slice(2) };
  const one = COMMANDS[group];
  if (one) return { name: group, def: one, rest: positionals.slice(1) };
  throw new UsageError(sub ? `unknown command "${group} ${sub}"` : `"${group}" needs a subcommand`);
}

function bindArgs(name: string, def: CommandDef, rest: string[]): Record<string, string> {
  const needed = def.args.filter((a) => !a.endsWith('?')).length;
  if (rest.length < needed || rest.length > def.args.length) {
    const shape = def.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : `<${a}>`)).join(' ');
    throw new UsageError(`usage: fabrica ${name} ${shape}`.trimEnd());
  }
  return Object.fromEntries(rest.map((v, i) => [def.args[i]!.replace(/\?$/, ''), v]));
}

function apiBase(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--api must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--api must be an http(s) URL, got "${raw}"`);
  const base = url.toString().replace(/\/+$/, '');
  return base.endsWith('/api/v1') ? base : `${base}/api/v1`;
}

/**
 * Parses the client's command line (`runs list --status failed --json`, options anywhere) into one REST call or a
 * watch. Throws {@link UsageError} for an unknown command, a missing or extra argument, an option the command does
 * not take, or a malformed value.
 */
export function parseInvocation(argv: string[], env: NodeJS.ProcessEnv = process.env): Invocation {
  let parsed: { values: Options; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0 || positionals[0] === 'help') return { kind: 'help' };
  const { name, def, rest } = findCommand(positionals);
  const args = bindArgs(name, def, rest);
  const stray = Object.keys(values).filter((k) => ![...GLOBAL, ...def.options].includes(k as keyof typeof OPTIONS));
  if (stray.length > 0) throw new UsageError(`fabrica ${name} does not take --${stray.join(', --')}`);
  return {
    kind: 'call',
    api: apiBase(str(values, 'api') ?? (env.FABRICA_API_URL || 'http://127.0.0.1:3000')),
    key: str(values, 'key') ?? (env.FABRICA_API_KEY || undefined),
    json: values.json === true,
    action: def.build(args, values),
  };
}
