import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PARTITION, PIPELINE, PIPELINE_STATUS, RUN_KIND } from '../../workflows/search-attributes.js';
import type { ManagedProcess } from './process.js';

/** Where the SDK gets the dev server: downloaded into its cache (needs internet), or a given binary. */
export type SdkServerExecutable = { type: 'cached-download' } | { type: 'existing-path'; path: string };

/**
 * The last resort of the Temporal binary lookup: the dev server as the TypeScript SDK runs it, downloading the CLI
 * into its own cache on machines with internet. Same ports, Web UI, SQLite file and search attributes as the CLI path.
 */
export async function startSdkDevServer(o: {
  executable: SdkServerExecutable;
  port: number;
  uiPort: number;
  dbFile: string;
}): Promise<ManagedProcess> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: o.executable,
      ip: '127.0.0.1',
      port: o.port,
      ui: true,
      uiPort: o.uiPort,
      dbFilename: o.dbFile,
      searchAttributes: [PIPELINE, PARTITION, RUN_KIND, PIPELINE_STATUS],
    },
  });
  let ended = false;
  let resolveExit: (v: string) => void = () => undefined;
  const exited = new Promise<number | string>((resolve) => (resolveExit = resolve));
  return {
    name: 'temporal (SDK)',
    pid: 0,
    logFile: '(managed by the Temporal SDK)',
    exited,
    hasExited: () => ended,
    async stop() {
      if (ended) return;
      ended = true;
      await env.teardown();
      resolveExit('stopped');
    },
  };
}
