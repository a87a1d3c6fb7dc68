import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags.js';

/** The real worker process (`dist/worker/main.js`), as production runs it, bound to a test env. */
export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker logs that it polls. */
  polling(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns a worker process with the given environment; `launch` wraps its command line (e.g. to run it on another
 * host: a network namespace).
 */
export function spawnWorker(
  env: NodeJS.ProcessEnv,
  launch: (command: string, args: string[]) => [string, string[]] = (command, args) => [command, args],
): WorkerProcess {
  const [command, args] = launch(process.execPath, [
    ...WORKER_NODE_FLAGS,
    path.join(projectRoot, 'dist', 'worker', 'main.js'),
  ]);
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    polling: (timeoutMs = 120_000) =>
      new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const tick = () => {
          if (out.includes('"worker polling"')) return resolve();
          if (child.exitCode !== null) return reject(new Error(`worker exited (${child.exitCode}):\n${out}`));
          if (Date.now() > deadline) return reject(new Error(`worker not polling in time:\n${out}`));
          setTimeout(tick, 100);
        };
        tick();
      }),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
