import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../api/app.js';
import { newApiKey, type Role } from '../../worker/api-keys.js';
import type { FabricaTestEnv } from './fabrica-env.js';

/** A Nest app bound to a test env, with one key per role. */
export interface TestApi {
  app: NestExpressApplication;
  keys: Record<Role, string>;
  /** The `FABRICA_API_KEYS` value the app runs with (give it to a second app to share the keys). */
  keyEntries: string;
  close(): Promise<void>;
}

/**
 * Builds the API for `env` (config is read from the environment once, at module init, like in production). Quiet
 * unless `accessLog` (then every request writes its JSON log lines to stderr, as in production).
 */
export async function createTestApi(
  env: FabricaTestEnv,
  extra: NodeJS.ProcessEnv = {},
  options: { accessLog?: boolean } = {},
): Promise<TestApi> {
  const generated = (['viewer', 'operator', 'admin'] as const).map((role) => ({
    role,
    ...newApiKey(`test-${role}`, role),
  }));
  const keyEntries = generated.map((g) => g.entry).join(',');
  const saved = { ...process.env };
  Object.assign(process.env, env.processEnv(), { FABRICA_API_KEYS: keyEntries }, extra);
  try {
    const app = await createApp({ logger: false, accessLog: options.accessLog ?? false });
    await app.init();
    return {
      app,
      keys: Object.fromEntries(generated.map((g) => [g.role, g.key])) as Record<Role, string>,
      keyEntries: extra.FABRICA_API_KEYS ?? keyEntries,
      close: () => app.close(),
    };
  } finally {
    process.env = saved;
  }
}
