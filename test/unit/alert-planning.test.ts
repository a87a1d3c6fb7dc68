import { describe, expect, it } from '@jest/globals';
import { planChannel } from '../../activities/alerts/index.js';
import { parseAlertChannels, routes, type AlertChannel } from '../../worker/alert-channels.js';
import { loadConfig } from '../../worker/config.js';

const hook: AlertChannel = { id: 'h', type: 'webhook', url: 'http://x/h', format: 'json', minSeverity: 'warning' };

const alert = (id: number, over: Record<string, unknown> = {}) => ({
  id: String(id),
  kind: 'run_failed',
  severity: 'critical',
  pipeline: 'p',
  partition_key: `M0${id}@2026-11-20T10`,
  run_id: null,
  message: 'm',
  created_at: new Date(0),
  resolved_at: null as Date | null,
  acknowledged_at: null as Date | null,
  silenced: false,
  ...over,
});
const delivered = (seq: number, ids: number[], over: Record<string, unknown> = {}) => ({
  id: String(seq),
  channel: 'h',
  event: 'firing' as const,
  sequence: seq,
  status: 'delivered',
  alert_ids: ids.map(String),
  ...over,
});

describe('alert channels configuration', () => {
  it('parses webhooks and e-mail with their routes', () => {
    const channels = parseAlertChannels(
      JSON.stringify([
        { id: 'a', type: 'webhook', url: 'https://h.example/x', format: 'slack', secretEnv: 'S' },
        {
          id: 'b',
          type: 'email',
          smtpUrl: 'smtp://u:p@mail:587',
          from: 'F <f@x.y>',
          to: ['o@x.y'],
          minSeverity: 'critical',
          kinds: ['freshness'],
        },
      ]),
      { S: 'shh' },
    );
    expect(channels[0]).toMatchObject({ format: 'slack', secret: 'shh', minSeverity: 'warning' });
    expect(channels[1]).toMatchObject({ type: 'email', to: ['o@x.y'], kinds: ['freshness'] });
  });

  it.each([
    ['not json', /^\(document\): not valid JSON/],
    ['{}', /^\(document\): expected a JSON array/],
    ['[{"id":"a","type":"sms"}]', /^\[0\]\.type: expected webhook or email/],
    ['[{"id":"a","type":"webhook"}]', /^\[0\]\.url: is required/],
    ['[{"id":"a","type":"webhook","url":"ftp://x"}]', /^\[0\]\.url: unsupported scheme "ftp:"/],
    [
      '[{"id":"a","type":"webhook","url":"http://x","secretEnv":"NOPE"}]',
      /^\[0\]\.secretEnv: environment variable NOPE/,
    ],
    ['[{"id":"a","type":"webhook","url":"http://x","to":["a@b.c"]}]', /^\[0\]\.to: only for type email/],
    [
      '[{"id":"a","type":"email","smtpUrl":"http://x","from":"a@b.c","to":["a@b.c"]}]',
      /^\[0\]\.smtpUrl: unsupported scheme/,
    ],
    [
      '[{"id":"a","type":"email","smtpUrl":"smtp://x","from":"a@b.c","to":["nobody"]}]',
      /^\[0\]\.to: "nobody" is not an address/,
    ],
    ['[{"id":"a","type":"webhook","url":"http://x","kinds":["fire"]}]', /^\[0\]\.kinds: unknown value "fire"/],
    [
      '[{"id":"a","type":"webhook","url":"http://x","minSeverity":"info"}]',
      /^\[0\]\.minSeverity: expected warning or critical/,
    ],
    [
      '[{"id":"a","type":"webhook","url":"http://x"},{"id":"a","type":"webhook","url":"http://y"}]',
      /^\[1\]\.id: duplicate/,
    ],
    ['[{"id":"a","type":"webhook","url":"http://x","color":"red"}]', /^\[0\]\.color: unknown field/],
  ])('refuses %s naming the field', (json, message) => {
    expect(() => parseAlertChannels(json, {})).toThrow(message);
  });

  it('stops the configuration naming the setting, without the secret', () => {
    const bad = JSON.stringify([{ id: 'a', type: 'webhook', url: 'gopher://x', secret: 'top-secret' }]);
    expect(() => loadConfig({ FABRICA_ALERT_CHANNELS: bad })).toThrow(/^FABRICA_ALERT_CHANNELS: \[0\]\.url/);
    expect(() => loadConfig({ FABRICA_ALERT_CHANNELS: bad })).not.toThrow(/top-secret/);
    expect(() => loadConfig({ FABRICA_ALERT_CHANNELS_FILE: '/nonexistent/channels.json' })).toThrow(
      /^FABRICA_ALERT_CHANNELS_FILE: \(file\): cannot read/,
    );
    expect(() => loadConfig({ FABRICA_ALERT_GROUP_WAIT_SECONDS: '-1' })).toThrow(/^FABRICA_ALERT_GROUP_WAIT_SECONDS/);
  });

  it('routes by severity, pipeline and kind', () => {
    const c = { minSeverity: 'critical' as const, pipelines: ['p'], kinds: ['run_failed' as const] };
    expect(routes(c, { severity: 'critical', pipeline: 'p', kind: 'run_failed' })).toBe(true);
    expect(routes(c, { severity: 'warning', pipeline: 'p', kind: 'run_failed' })).toBe(false);
    expect(routes(c, { severity: 'critical', pipeline: 'q', kind: 'run_failed' })).toBe(false);
    expect(routes(c, { severity: 'critical', pipeline: 'p', kind: 'freshness' })).toBe(false);
  });
});

describe("planning a group's messages on one channel", () => {
  it('sends every new alert in one firing message, and nothing again', () => {
    const alerts = [alert(1), alert(2), alert(3)];
    expect(planChannel(hook, alerts, [], false)).toEqual([
      { event: 'firing', sequence: 1, status: 'pending', alertIds: ['1', '2', '3'] },
    ]);
    expect(planChannel(hook, alerts, [delivered(1, [1, 2, 3])], false)).toEqual([]);
  });

  it('sends alerts that joined the group later in a second message', () => {
    const plan = planChannel(hook, [alert(1), alert(2)], [delivered(1, [1])], false);
    expect(plan).toEqual([{ event: 'firing', sequence: 2, status: 'pending', alertIds: ['2'] }]);
  });

  it('sends one resolved message once every announced alert is resolved', () => {
    const done = new Date(1);
    const half = planChannel(hook, [alert(1, { resolved_at: done }), alert(2)], [delivered(1, [1, 2])], false);
    expect(half).toEqual([]);
    const all = [alert(1, { resolved_at: done }), alert(2, { resolved_at: done })];
    expect(planChannel(hook, all, [delivered(1, [1, 2])], false)).toEqual([
      { event: 'resolved', sequence: 1, status: 'pending', alertIds: ['1', '2'] },
    ]);
    const sent = [delivered(1, [1, 2]), delivered(1, [1, 2], { id: '9', event: 'resolved' })];
    expect(planChannel(hook, all, sent, false)).toEqual([]);
  });

  it('records silenced alerts instead of sending them, and never "resolves" what it did not announce', () => {
    const quiet = [alert(1, { silenced: true })];
    expect(planChannel(hook, quiet, [], false)).toEqual([
      { event: 'firing', sequence: 1, status: 'silenced', alertIds: ['1'] },
    ]);
    const resolved = [alert(1, { silenced: true, resolved_at: new Date(1) })];
    expect(planChannel(hook, resolved, [delivered(1, [1], { status: 'silenced' })], false)).toEqual([]);
  });

  it('reminds of open alerts nobody acknowledged', () => {
    const alerts = [alert(1), alert(2, { acknowledged_at: new Date(1) }), alert(3, { resolved_at: new Date(1) })];
    expect(planChannel(hook, alerts, [delivered(1, [1, 2, 3])], true)).toEqual([
      { event: 'firing', sequence: 2, status: 'pending', alertIds: ['1'] },
    ]);
  });

  it('ignores alerts the channel does not route', () => {
    const mail: AlertChannel = { ...hook, id: 'h', minSeverity: 'critical' };
    expect(planChannel(mail, [alert(1, { severity: 'warning' })], [], false)).toEqual([]);
  });
});
