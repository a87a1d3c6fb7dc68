import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { projectRoot } from '../../infra/paths.js';

const dir = path.join(projectRoot, 'infra', 'observability');
const rules = path.join(dir, 'rules', 'fabrica.rules.yml');
const ruleTests = path.join(dir, 'rules', 'fabrica.rules.test.yml');
const alertmanager = path.join(dir, 'alertmanager.yml');
const PACKAGES: Record<string, string> = { promtool: 'prometheus', amtool: 'prometheus-alertmanager' };

/** Runs one of the Prometheus tools; a missing binary fails with what to install (never a skip). */
function tool(cmd: 'promtool' | 'amtool', args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error(`${cmd} is not installed: install the Debian package ${PACKAGES[cmd]} (.ci/run does)`)
          : err,
      ),
    );
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** The alert rule test cases of the promtool test file: alert name and whether the case expects it to fire. */
function cases(text: string): { alert: string; firing: boolean }[] {
  return text
    .split(/^\s*- eval_time:/m)
    .slice(1)
    .map((block) => ({
      alert: /alertname: (\w+)/.exec(block)![1]!,
      firing: !/exp_alerts: \[\]/.test(block),
    }));
}

/** The Prometheus configuration, alert rules (with their unit tests) and Alertmanager routing of infra/observability. */
describe('Prometheus and Alertmanager configuration', () => {
  const temp = mkdtempSync(path.join(tmpdir(), 'fabrica-observability-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('has a valid Prometheus configuration that loads the rule file', async () => {
    const r = await tool('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('SUCCESS: 1 rule files found');
    expect(r.out).toMatch(/SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/);
  });

  it('has valid rules', async () => {
    const r = await tool('promtool', ['check', 'rules', rules]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('tests every alert rule both firing and not firing', () => {
    const alerts = [...readFileSync(rules, 'utf8').matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);
    expect(alerts).toEqual(
      expect.arrayContaining([
        'FabricaDataStale',
        'FabricaRunFailuresBurst',
        'FabricaLatencySlaMissed',
        'FabricaWorkerNotPolling',
        'FabricaTaskQueueBacklog',
        'FabricaApiErrors',
      ]),
    );
    const tested = cases(readFileSync(ruleTests, 'utf8'));
    for (const alert of alerts) {
      expect({ alert, firing: tested.some((c) => c.alert === alert && c.firing) }).toEqual({ alert, firing: true });
      expect({ alert, quiet: tested.some((c) => c.alert === alert && !c.firing) }).toEqual({ alert, quiet: true });
    }
  });

  it('passes its promtool unit tests', async () => {
    const r = await tool('promtool', ['test', 'rules', ruleTests]);
    expect(r.out).toContain('SUCCESS');
    expect(r.out).not.toContain('FAILED');
    expect(r.code).toBe(0);
  });

  it('fails the unit tests when an expectation is wrong (the working-hours edge moved by one minute)', async () => {
    const copy = path.join(temp, 'wrong.test.yml');
    const text = readFileSync(ruleTests, 'utf8').replace(/^( {2}- )fabrica\.rules\.yml$/m, `$1${rules}`);
    // 20:00 local (23:00 UTC) ends working hours; at 19:59 the alert still fires, so expecting none must fail.
    const wrong = text.replace(/- eval_time: 23h(\n\s+alertname: FabricaDataStale\n)/, '- eval_time: 22h59m$1');
    expect(wrong).not.toBe(text);
    writeFileSync(copy, wrong);
    const r = await tool('promtool', ['test', 'rules', copy]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('FAILED');
    expect(r.out).toContain('alertname: FabricaDataStale, time: 22h59m');
    // The same copy without the change passes: the failure is the expectation's, not the copy's.
    writeFileSync(copy, text);
    expect(await tool('promtool', ['test', 'rules', copy])).toMatchObject({ code: 0 });
  });

  it('has a valid Alertmanager configuration routing by severity and pipeline', async () => {
    const r = await tool('amtool', ['check-config', alertmanager]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('SUCCESS');
    const route = async (...labels: string[]) => {
      const res = await tool('amtool', ['config', 'routes', 'test', `--config.file=${alertmanager}`, ...labels]);
      expect(res.code).toBe(0);
      return res.out.split('\n').find((l) => l && !l.startsWith('Warning'));
    };
    expect(
      await route('alertname=FabricaRunFailuresBurst', 'severity=critical', 'pipeline=quality-lab-inspections'),
    ).toBe('on-call-pager,quality-lab');
    expect(await route('alertname=FabricaDataStale', 'severity=warning', 'pipeline=factory-machine-signals')).toBe(
      'data-engineering',
    );
    expect(await route('alertname=FabricaWorkerNotPolling', 'severity=critical')).toBe('on-call-pager');
  });

  it('rejects an Alertmanager configuration that routes to an undefined receiver', async () => {
    const broken = path.join(temp, 'alertmanager.yml');
    writeFileSync(broken, readFileSync(alertmanager, 'utf8').replace('receiver: quality-lab', 'receiver: nobody'));
    const r = await tool('amtool', ['check-config', broken]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('undefined receiver "nobody"');
  });
});
