import { spawn, type SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../paths.js';

/** The built watchdog ({@link ./watchdog.ts}) every service runs under. */
const WATCHDOG = path.join(projectRoot, 'dist', 'infra', 'services', 'watchdog.js');

/** A child process started by the launcher or the test harness, in its own process group. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** True once the process has ended. */
  hasExited(): boolean;
  /** Sends `signal` to the whole process group, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Options for {@link startProcess}. */
export interface StartProcessOptions extends Pick<SpawnOptions, 'cwd' | 'env' | 'uid' | 'gid'> {
  name: string;
  command: string;
  args: string[];
  /** File receiving stdout and stderr. */
  logFile: string;
}

/**
 * Spawns a long-running service in its own process group (so stopping it stops its children too) with its
 * output appended to a log file. The service runs under the watchdog, which stops the group when this process goes
 * away, however it goes (even `SIGKILL`): a launcher or a test run never leaves services behind.
 */
export function startProcess(options: StartProcessOptions): ManagedProcess {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const watched = existsSync(WATCHDOG);
  const spec = { command: options.command, args: options.args, uid: options.uid, gid: options.gid };
  const child = spawn(
    watched ? process.execPath : options.command,
    watched ? [WATCHDOG, JSON.stringify(spec)] : options.args,
    {
      cwd: options.cwd,
      env: options.env,
      ...(watched ? {} : { uid: options.uid, gid: options.gid }),
      detached: true,
      // stdin: the watchdog's lifeline (never written; it closes when this process ends).
      stdio: [watched ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    },
  );
  // The lifeline must neither keep this process alive nor crash it once the watchdog is gone.
  child.stdin?.on('error', () => undefined);
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let ended = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (err) => {
      ended = true;
      log.write(`\n[fabrica] failed to start ${options.command}: ${err.message}\n`);
      resolve('spawn-error');
    });
    child.once('exit', (code, signal) => {
      ended = true;
      resolve(code ?? signal ?? 'unknown');
    });
  });
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  const pid = child.pid;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    hasExited: () => ended,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (ended) return;
      signalGroup(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      signalGroup('SIGKILL');
      log.end();
    },
  };
}

/**
 * Polls `probe` until it resolves true; rejects with a message naming the service and its log when the process dies
 * or the deadline passes.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) throw new Error(`${proc.name} exited during start-up; see ${proc.logFile}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${proc.name} not ready after ${timeoutMs / 1000}s; see ${proc.logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
