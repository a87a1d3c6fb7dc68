import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';

/**
 * Path of the workflows entry point next to this module: `workflows/index.js` in the build, `workflows/index.ts` when
 * running the sources (tests).
 */
export function workflowsPath(): string {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'workflows');
  const js = path.join(dir, 'index.js');
  return existsSync(js) ? js : path.join(dir, 'index.ts');
}

/** Lets the workflow bundler resolve ESM-style `./x.js` specifiers to the TypeScript sources. */
export const webpackConfigHook: NonNullable<BundleOptions['webpackConfigHook']> = (config) => {
  config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
  return config;
};
