import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Reads `.env` (the file `.env.example` describes) from the working directory into `env`, never overriding a variable
 * already set: the real environment wins. Returns the file read, or undefined when there is none. A malformed line
 * is skipped by Node's parser; every value is then validated by `loadConfig` like any other setting.
 */
export function loadDotEnv(file = path.resolve('.env'), env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!existsSync(file)) return undefined;
  const values = parseEnv(readFileSync(file, 'utf8'));
  for (const [k, v] of Object.entries(values)) if (env[k] === undefined) env[k] = v;
  return file;
}
