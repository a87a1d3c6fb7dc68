import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/**
 * The settings that may come from a file instead of the environment (`<VAR>_FILE`, as Docker and Kubernetes mount
 * secrets). `FABRICA_API_KEYS_FILE` and `FABRICA_ALERT_CHANNELS_FILE` predate this and keep their own formats.
 */
export const SECRET_FILE_SETTINGS = [
  'DATABASE_URL',
  'INVENTORY_DATABASE_URL',
  'RECORDS_DATABASE_URL',
  'TEMPORAL_API_KEY',
  'FABRICA_SESSION_SECRET',
] as const;

/**
 * The environment with every `<VAR>_FILE` of {@link SECRET_FILE_SETTINGS} read into `<VAR>` (the file's content
 * without its trailing newline). Setting both `<VAR>` and `<VAR>_FILE` is an error naming both; a file that cannot
 * be read, or is empty, is an error naming `<VAR>_FILE`.
 */
export function withSecretFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let resolved: NodeJS.ProcessEnv | undefined;
  for (const name of SECRET_FILE_SETTINGS) {
    const fileSetting = `${name}_FILE`;
    const file = env[fileSetting];
    if (!file) continue;
    if (env[name]) throw new ConfigError(`${name} / ${fileSetting}`, 'set only one of the two');
    let value: string;
    try {
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(
        fileSetting,
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (!value.trim()) throw new ConfigError(fileSetting, `${file} is empty`);
    (resolved ??= { ...env })[name] = value;
  }
  return resolved ?? env;
}
