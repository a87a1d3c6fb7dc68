import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

/** The virtualenv `.ci/run` creates with the independent readers (schemathesis, pyarrow, pandas). */
export const VENV = process.env.FABRICA_PYTHON_VENV ?? path.join(homedir(), '.cache', 'fabrica', 'venv');

/** Where the fuzzer's report is kept. */
const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts', 'contract-fuzz');

/** Runs a program to its end, collecting its output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

/**
 * An independent contract fuzzer (schemathesis, from PyPI) against the running API with every check: each answer
 * must be one the OpenAPI document declares, in the declared shape, and no input may cause a 5xx.
 */
describe('OpenAPI contract (schemathesis)', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let server: Server;

  beforeAll(async () => {
    env = await createTestEnv('fuzz');
    await env.startWorker();
    // Invalid keys must get their 401 however many the fuzzer sends (the 429 past the limit is tested elsewhere).
    api = await createTestApi(env, { FABRICA_FAILED_AUTH_PER_MINUTE: '1000000' });
    server = await new Promise<Server>((resolve) => {
      const s = api.app.getHttpServer().listen(0, '127.0.0.1', () => resolve(s));
    });
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await api?.close();
    await env?.close();
  });

  it('finds no failure with all checks', async () => {
    const bin = path.join(VENV, 'bin', 'schemathesis');
    if (!existsSync(bin)) throw new Error(`schemathesis not found at ${bin}: run .ci/run (it creates the virtualenv)`);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { code, out } = await run(
      bin,
      [
        '--config-file',
        path.join(import.meta.dirname, '..', 'support', 'schemathesis.toml'),
        'run',
        `${base}/api/v1/openapi.json`,
        '--checks',
        'all',
        '--max-examples',
        process.env.FABRICA_FUZZ_EXAMPLES ?? '20',
        '--seed',
        '1',
        '--no-color',
      ],
      {
        ...process.env,
        PYTHONPATH: path.join(import.meta.dirname, '..', 'support'),
        SCHEMATHESIS_HOOKS: 'schemathesis_hooks',
        // The admin key, through the document's security scheme (so the fuzzer can also leave it out).
        FABRICA_FUZZ_API_KEY: api.keys.admin,
      },
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'schemathesis.txt'), out);
    if (code !== 0) process.stderr.write(out);
    // The stateful phase ran: it followed the document's links to real runs, backfills, exports and silences.
    expect(out).toMatch(/✅ {2}Stateful/);
    // Every case passed (the summary counts failures when there are any).
    expect(out).toMatch(/Test cases:\s+\d+ generated, \d+ passed/);
    expect(out).not.toMatch(/\d+ (unique )?failures?/);
    expect(code).toBe(0);
  });
});
