import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../api/app.js';
import { newApiKey, type Role } from '../../worker/api-keys.js';
import type { FabricaTestEnv } from './fabrica-env.js';

/** A Nest app bound to a test env, with one key per role. */
export interface TestApi {
  app: NestExpressApplication;
  keys: Record<Role, string>;
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
  const saved = { ...process.env };
  Object.assign(process.env, env.processEnv(), { FABRICA_API_KEYS: generated.map((g) => g.entry).join(',') }, extra);
  try {
    const app = await createApp({ logger: false, accessLog: options.accessLog ?? false });
    await app.init();
    return {
      app,
      keys: Object.fromEntries(generated.map((g) => [g.role, g.key])) as Record<Role, string>,
      close: () => app.close(),
    };
  } finally {
    process.env = saved;
  }
}
