import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { migrate } from '../infra/migrate.js';
import type { EphemeralServices } from '../infra/services/ephemeral.js';
import { ensureDatabases } from '../infra/services/postgres.js';
import path from 'node:path';
import { projectRoot } from '../infra/paths.js';
import { WORKER_NODE_FLAGS } from '../worker/node-flags.js';

/** Peak resident set size (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Spawns the real worker process and resolves once it polls. */
export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // BENCH_WORKER_CPU_PROF=<dir>: the worker writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const prof = process.env.BENCH_WORKER_CPU_PROF;
  const flags = prof ? [...WORKER_NODE_FLAGS, '--cpu-prof', `--cpu-prof-dir=${prof}`] : WORKER_NODE_FLAGS;
  const child = spawn(process.execPath, [...flags, path.join(projectRoot, 'dist', 'worker', 'main.js')], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!out.includes('"worker polling"')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

/** Stops a child process and waits for it. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Formats a number with thousands separators. */
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Prints a check line and returns whether it passed. */
export function check(label: string, value: number, op: '>=' | '<=', limit: number, unit = ''): boolean {
  const ok = op === '>=' ? value >= limit : value <= limit;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}: ${fmt(value, 2)}${unit} (target ${op} ${fmt(limit, 2)}${unit})`);
  return ok;
}

/** CPU seconds (user + system) used so far by the processes whose command line matches `pattern`. */
export function cpuSeconds(pattern: RegExp): number {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!pattern.test(cmd)) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** Busy and total CPU jiffies of the whole machine (from /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** An isolated deployment inside the benchmark's services: own databases, lake, landing and task queue. */
export interface Deployment {
  env: NodeJS.ProcessEnv;
  warehouse: string;
  dir: string;
}

/** Creates (and migrates) a deployment named `name`. */
export async function deployment(s: EphemeralServices, name: string, landing?: string): Promise<Deployment> {
  const dir = mkdtempSync(path.join(tmpdir(), `fabrica-bench-${name}-`));
  await ensureDatabases(s.databaseUrl, [`wh_${name}`, `inv_${name}`]);
  const warehouse = s.databaseUrl.replace(/\/postgres$/, `/wh_${name}`);
  const inventory = s.databaseUrl.replace(/\/postgres$/, `/inv_${name}`);
  await migrate(warehouse, 'warehouse');
  await migrate(inventory, 'inventory');
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: s.temporal.address,
    FABRICA_TASK_QUEUE: `bench-${name}`,
    DATABASE_URL: warehouse,
    INVENTORY_DATABASE_URL: inventory,
    FABRICA_LAKE_DIR: path.join(dir, 'lake'),
    FABRICA_LANDING: landing ?? path.join(dir, 'landing'),
    FABRICA_HOME: dir,
    FABRICA_SENSOR: 'false',
  };
  return { env, warehouse, dir };
}

/** Resident set size (VmRSS) of a live process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
