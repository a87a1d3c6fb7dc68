import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';

/** What a CLI process said and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built `fabrica` CLI, as a user runs it. */
export const CLI = path.join(projectRoot, 'dist', 'infra', 'cli', 'main.js');

/** Runs the built `fabrica` CLI with `args` in `env` and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
