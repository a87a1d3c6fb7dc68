import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import request from 'supertest';
import { SmtpReceiver, WebhookReceiver } from '../../infra/demo/alert-receivers.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { createSensorActivities } from '../../activities/sensor.js';
import type { AlertChannel } from '../../worker/alert-channels.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { runCli } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker } from '../support/worker-process.js';

const SECRET = 'a-shared-webhook-secret';
const MACHINES = Array.from({ length: 15 }, (_, i) => `M${String(i + 1).padStart(2, '0')}`);

/** Polls `probe` until `done` holds (a state written by the workflows), at most ~60 s. */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 600; i++) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/**
 * Alerts reach people: failed partitions raise alerts whose durable delivery workflows send them, grouped, to a
 * real HTTP receiver (Fábrica JSON, signed; Slack-shaped) and a real SMTP server, retry while a channel is down,
 * stop on a refusal, respect silences, and send "resolved" when the data is fixed.
 */
describe('alert delivery', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  const hook = new WebhookReceiver();
  const slack = new WebhookReceiver();
  const smtp = new SmtpReceiver();

  const deliveries = (groupKey: string) =>
    env.deps.warehouse
      .query<{
        channel: string;
        event: string;
        status: string;
        attempts: number;
        last_error: string | null;
        alert_ids: string[];
        idempotency_key: string;
      }>(
        'SELECT channel, event, status, attempts, last_error, alert_ids, idempotency_key FROM ops.alert_deliveries WHERE group_key = $1 ORDER BY id',
        [groupKey],
      )
      .then((r) => r.rows);
  const bodies = (rx: WebhookReceiver, groupKey: string) =>
    rx.requests
      .map((r) => ({ r, body: JSON.parse(r.raw) as Record<string, unknown> }))
      .filter(
        ({ r, body }) =>
          body.groupKey === groupKey || JSON.stringify(body).includes(groupKey) || r.raw.includes(groupKey),
      );
  const mailsOf = async (groupKey: string) =>
    (await Promise.all(smtp.mails.map((m) => simpleParser(m.raw)))).filter(
      (m) => m.text?.includes(groupKey) || m.subject?.includes(groupKey.split(':').slice(1).join(':')),
    );

  async function land(machines: string[], hourKey: string, defect?: 'schema_break') {
    for (const machine of machines)
      await writeMachineHourFile({
        outDir: env.landingDir,
        seed: defect ? 5 : 6,
        machines: 15,
        itemsPerFile: 20,
        defects: 'none',
        machine,
        hourKey,
        ...(defect ? { defect } : {}),
      });
    await createSensorActivities(env.deps).scanLanding({ spec });
  }
  const run = (partition: string, tag: string) =>
    env.client.workflow
      .execute(pipelineRunWorkflow, {
        workflowId: `${runWorkflowId(spec.id, partition)}:${tag}:${env.id}`,
        taskQueue: env.taskQueue,
        args: [{ spec, partition, runKind: 'manual', force: true }],
      })
      .catch(() => undefined);

  beforeAll(async () => {
    await Promise.all([hook.start(), slack.start(), smtp.start()]);
    const channels: AlertChannel[] = [
      { id: 'team-hook', type: 'webhook', url: hook.url(), format: 'json', secret: SECRET, minSeverity: 'warning' },
      {
        id: 'team-slack',
        type: 'webhook',
        url: slack.url('/services/T0/B0/x'),
        format: 'slack',
        minSeverity: 'critical',
      },
      {
        id: 'oncall-mail',
        type: 'email',
        smtpUrl: smtp.url,
        from: 'Fábrica <fabrica@plant.example>',
        to: ['oncall@plant.example'],
        minSeverity: 'critical',
        pipelines: [spec.id],
      },
    ];
    env = await createTestEnv('alerts', {
      alerts: { channels, groupWaitSeconds: 8, repeatIntervalSeconds: 0, retryForSeconds: 600 },
    });
    await env.startWorker();
    api = await createTestApi(env, { FABRICA_ALERT_CHANNELS: JSON.stringify(channels) });
  });
  afterAll(async () => {
    await api?.close();
    await env?.close();
    await Promise.all([hook.stop(), slack.stop(), smtp.stop()]);
  });

  it('groups 15 failed machines of one hour into one message per channel, then one "resolved" when fixed', async () => {
    const hourKey = '2026-11-20T10';
    const group = `run_failed:${spec.id}:${hourKey}`;
    await land(MACHINES, hourKey, 'schema_break');
    await Promise.all(MACHINES.map((m) => run(`${m}@${hourKey}`, 'broken')));
    const fired = await until(
      () => deliveries(group),
      (d) => d.length === 3 && d.every((x) => x.status === 'delivered'),
      'three delivered firing messages',
    );
    expect(fired.map((d) => [d.channel, d.event, d.alert_ids.length]).sort()).toEqual([
      ['oncall-mail', 'firing', 15],
      ['team-hook', 'firing', 15],
      ['team-slack', 'firing', 15],
    ]);

    // Fábrica's JSON, signed with the channel's secret (checked here with node:crypto, not Fábrica's code).
    const hooks = bodies(hook, group);
    expect(hooks).toHaveLength(1);
    const { r, body } = hooks[0]!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers['x-fabrica-signature']))!;
    expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${r.raw}`).digest('hex'));
    expect(r.headers['idempotency-key']).toBe(body.idempotencyKey);
    expect(body).toMatchObject({ event: 'firing', groupKey: group, severity: 'critical' });
    expect((body.alerts as { partition: string }[]).map((a) => a.partition).sort()).toEqual(
      MACHINES.map((m) => `${m}@${hourKey}`),
    );
    // Slack's incoming-webhook shape.
    const slacks = slack.requests.filter((x) => x.raw.includes(hourKey));
    expect(slacks).toHaveLength(1);
    expect(JSON.parse(slacks[0]!.raw)).toMatchObject({
      text: expect.stringContaining('[FIRING:15]'),
      blocks: expect.any(Array),
    });
    // One e-mail, to the configured address, with every machine in it.
    const mails = await mailsOf(group);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain('[FIRING:15] run_failed');
    for (const m of MACHINES) expect(mails[0]!.text).toContain(`${m}@${hourKey}`);
    expect(mails[0]!.headers.get('x-fabrica-idempotency-key')).toBe(
      fired.find((d) => d.channel === 'oncall-mail')!.idempotency_key,
    );

    // The corrected files arrive: every partition loads, every alert resolves, each channel gets one "resolved".
    await land(MACHINES, hourKey);
    await Promise.all(MACHINES.map((m) => run(`${m}@${hourKey}`, 'fixed')));
    const all = await until(
      () => deliveries(group),
      (d) => d.filter((x) => x.event === 'resolved' && x.status === 'delivered').length === 3,
      'three delivered resolved messages',
    );
    expect(all).toHaveLength(6);
    expect(bodies(hook, group).map((b) => b.body.event)).toEqual(['firing', 'resolved']);
    expect((await mailsOf(group)).map((m) => m.subject?.slice(0, 12))).toEqual(['[FIRING:15] ', '[RESOLVED:15']);
    const open = await env.deps.warehouse.query(
      'SELECT count(*)::int AS n FROM ops.alerts WHERE group_key = $1 AND resolved_at IS NULL',
      [group],
    );
    expect(open.rows[0].n).toBe(0);
  });

  it('retries while a channel is down, then delivers exactly one message when it is back', async () => {
    const hourKey = '2026-11-20T11';
    const group = `run_failed:${spec.id}:${hourKey}`;
    const port = hook.port;
    await hook.stop();
    await land(['M01'], hourKey, 'schema_break');
    await run(`M01@${hourKey}`, 'down');
    const failing = await until(
      () => deliveries(group),
      (d) => (d.find((x) => x.channel === 'team-hook')?.attempts ?? 0) >= 2,
      'two refused attempts on the webhook',
    );
    const down = failing.find((x) => x.channel === 'team-hook')!;
    expect(down.status).toBe('pending');
    expect(down.last_error).toMatch(/unreachable: ECONNREFUSED/);
    await hook.start(port);
    await until(
      () => deliveries(group),
      (d) => d.find((x) => x.channel === 'team-hook')?.status === 'delivered',
      'the webhook delivery once the receiver is back',
    );
    expect(bodies(hook, group)).toHaveLength(1);
    // The other channels were not held up by the one that was down.
    expect((await deliveries(group)).filter((d) => d.status === 'delivered')).toHaveLength(3);
  });

  it('fails a delivery the receiver refuses (4xx) once, visibly, without retrying', async () => {
    const hourKey = '2026-11-20T12';
    const group = `run_failed:${spec.id}:${hourKey}`;
    slack.status = 400;
    try {
      await land(['M02'], hourKey, 'schema_break');
      await run(`M02@${hourKey}`, 'refused');
      const d = await until(
        () => deliveries(group),
        (x) =>
          x.find((y) => y.channel === 'team-slack')?.status === 'failed' &&
          x.filter((y) => y.status === 'delivered').length === 2,
        'a failed slack delivery',
      );
      const refused = d.find((x) => x.channel === 'team-slack')!;
      expect(refused).toMatchObject({ attempts: 1, last_error: 'webhook team-slack answered HTTP 400' });
      expect(slack.requests.filter((x) => x.raw.includes(hourKey))).toHaveLength(1);
      // Visible through the API, as the dashboard and the CLI show it.
      const res = await request(api.app.getHttpServer())
        .get('/api/v1/alert-deliveries?status=failed&channel=team-slack')
        .set('X-API-Key', api.keys.viewer);
      expect(res.status).toBe(200);
      expect(res.body.items.map((x: { groupKey: string }) => x.groupKey)).toContain(group);
    } finally {
      slack.status = 200;
    }
  });

  it('acknowledges and silences through the API and the CLI; a silenced alert is recorded, not sent', async () => {
    const http = api.app.getHttpServer();
    const { rows } = await env.deps.warehouse.query<{ id: string }>(
      "SELECT id FROM ops.alerts WHERE partition_key = 'M02@2026-11-20T12'",
    );
    const id = rows[0]!.id;
    expect(
      (await request(http).post(`/api/v1/alerts/${id}/ack`).set('X-API-Key', api.keys.viewer).send({})).status,
    ).toBe(403);
    expect((await request(http).post('/api/v1/alerts/0/ack').set('X-API-Key', api.keys.operator).send({})).status).toBe(
      400,
    );
    expect(
      (await request(http).post('/api/v1/alerts/999999/ack').set('X-API-Key', api.keys.operator).send({})).status,
    ).toBe(404);
    const bad = await request(http)
      .post('/api/v1/alert-silences')
      .set('X-API-Key', api.keys.operator)
      .send({ reason: 'x' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('minutes');

    // The CLI, against the API listening on a port.
    const server = await new Promise<Server>((resolve) => {
      const s = http.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const cli = (args: string[]) =>
        runCli(args, {
          ...process.env,
          FABRICA_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          FABRICA_API_KEY: api.keys.operator,
        });
      const acked = await cli(['alerts', 'ack', id, '--comment', 'replacing the sensor']);
      expect(acked.code).toBe(0);
      expect(acked.stdout).toContain('by test-operator');
      const listed = await cli(['alerts', '--pipeline', spec.id]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^${id}\\s.*acked by test-operator`, 'm'));
      const silenced = await cli([
        'alerts',
        'silence',
        '--pipeline',
        spec.id,
        '--partition',
        'M03@',
        '--for',
        '2h',
        '--reason',
        'M03 in maintenance',
      ]);
      expect(silenced.code).toBe(0);
      expect(silenced.stdout).toMatch(/active:\s+true/);
      expect((await cli(['alerts', 'silence', '--for', 'soon', '--reason', 'x'])).code).toBe(2);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const ack = await request(http).get(`/api/v1/alerts/${id}`).set('X-API-Key', api.keys.viewer);
    expect(ack.body).toMatchObject({ acknowledgedBy: 'test-operator', ackComment: 'replacing the sensor' });

    // M03 breaks during its silence: every channel records the delivery as silenced and nobody is messaged.
    const hourKey = '2026-11-20T13';
    const group = `run_failed:${spec.id}:${hourKey}`;
    await land(['M03'], hourKey, 'schema_break');
    await run(`M03@${hourKey}`, 'silenced');
    const d = await until(
      () => deliveries(group),
      (x) => x.length === 3,
      'three silenced deliveries',
    );
    expect(d.map((x) => x.status)).toEqual(['silenced', 'silenced', 'silenced']);
    expect(hook.requests.filter((x) => x.raw.includes(hourKey))).toHaveLength(0);
    expect(slack.requests.filter((x) => x.raw.includes(hourKey))).toHaveLength(0);
    expect(await mailsOf(group)).toHaveLength(0);
  });

  it('stops start-up naming the setting when a channel is misconfigured', async () => {
    const bad = JSON.stringify([{ id: 'x', type: 'webhook', url: 'ftp://example.org/hook' }]);
    const exit = (w: ReturnType<typeof spawnWorker>) =>
      new Promise<number | null>((resolve) => {
        if (w.child.exitCode !== null) resolve(w.child.exitCode);
        else w.child.once('exit', (code) => resolve(code));
      });
    const worker = spawnWorker({ ...env.processEnv(), FABRICA_ALERT_CHANNELS: bad });
    expect(await exit(worker)).toBe(78);
    expect(worker.output()).toContain('FABRICA_ALERT_CHANNELS: [0].url: unsupported scheme \\"ftp:\\"');
    const mail = spawnWorker({
      ...env.processEnv(),
      FABRICA_ALERT_CHANNELS: JSON.stringify([
        { id: 'm', type: 'email', smtpUrl: 'smtp://127.0.0.1:25', from: 'a@b.c' },
      ]),
    });
    expect(await exit(mail)).toBe(78);
    expect(mail.output()).toContain('FABRICA_ALERT_CHANNELS: [0].to: is required');
  });
});
