import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { webpackConfigHook, workflowsPath } from '../../worker/bundle.js';

/** Usage of `fabrica bundle-workflows`. */
export const BUNDLE_USAGE = `usage: fabrica bundle-workflows <out-file>

Bundles every workflow into one file, as a worker would at start; a worker given the file as
$FABRICA_WORKFLOW_BUNDLE starts without bundling (the container image builds it at image build time).`;

/** `fabrica bundle-workflows <out-file>`: resolves with the exit code (2 for bad usage); a bundling error throws. */
export async function bundleWorkflowsCommand(argv: string[]): Promise<number> {
  const [out, ...extra] = argv;
  if (out === undefined || out.startsWith('-') || extra.length > 0) {
    console.error(BUNDLE_USAGE);
    return out === '--help' || out === '-h' ? 0 : 2;
  }
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    webpackConfigHook,
    logger: { trace() {}, debug() {}, info() {}, warn: console.error, error: console.error, log() {} },
  });
  const file = path.resolve(out);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
  console.log(`workflow bundle written to ${file} (${Math.round(code.length / 1024)} KiB)`);
  return 0;
}
