import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadDotEnv } from '../../worker/env-file.js';
import { loadConfig } from '../../worker/config.js';

describe('.env', () => {
  it('fills in unset settings, never overrides the environment, and its values are validated', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fabrica-env-'));
    try {
      const file = path.join(dir, '.env');
      writeFileSync(file, '# local settings\nFABRICA_API_PORT=3100\nFABRICA_LOG_LEVEL="warn"\nFABRICA_SENSOR=nope\n');
      const env: NodeJS.ProcessEnv = { FABRICA_LOG_LEVEL: 'debug' };
      expect(loadDotEnv(file, env)).toBe(file);
      expect(env).toMatchObject({ FABRICA_API_PORT: '3100', FABRICA_LOG_LEVEL: 'debug', FABRICA_SENSOR: 'nope' });
      expect(() => loadConfig(env)).toThrow(/^FABRICA_SENSOR: expected true or false/);
      expect(loadDotEnv(path.join(dir, 'missing.env'), env)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
