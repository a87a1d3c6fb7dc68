import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';

/** A `fabrica dev` process under test, with its captured output. */
export interface LauncherProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the launcher prints its ready line; rejects if it exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  exit(): Promise<number | null>;
}

/** Runs the built CLI's `dev` command with the given environment. */
export function runLauncher(env: NodeJS.ProcessEnv): LauncherProcess {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'infra', 'cli', 'main.js'), 'dev'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exit: () => exited,
    ready: (timeoutMs = 150_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`launcher not ready in time:\n${out}`)), timeoutMs);
        const check = () => {
          if (out.includes('[fabrica] ready:')) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`launcher exited (${code}) before ready:\n${out}`));
        });
      }),
  };
}
