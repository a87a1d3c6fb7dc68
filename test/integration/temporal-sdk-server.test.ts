import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { canConnect, freePort } from '../../infra/services/ports.js';
import { startSdkDevServer } from '../../infra/services/temporal-sdk.js';
import { testServices } from '../support/services.js';

/**
 * The launcher's last-resort path (the SDK runs the dev server). Offline the SDK cannot download, so this runs the
 * same code with the cached CLI as an existing path: ports, Web UI, persistence and search attributes must match.
 */
describe('dev server through the Temporal SDK', () => {
  it('serves gRPC and the Web UI, registers the search attributes, persists, and stops', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fabrica-sdk-server-'));
    const [port, uiPort] = [await freePort(), await freePort()];
    const start = () =>
      startSdkDevServer({
        executable: { type: 'existing-path', path: testServices().temporal.binary },
        port,
        uiPort,
        dbFile: path.join(dir, 't.db'),
      });
    try {
      let server = await start();
      let connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
        expect.arrayContaining(['Pipeline', 'Partition', 'RunKind', 'PipelineStatus']),
      );
      expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
      await new Client({ connection }).workflow.start('probe', {
        workflowId: 'sdk-probe',
        taskQueue: 'nobody',
        args: [],
      });
      await connection.close();
      await server.stop();
      expect(await canConnect(port)).toBe(false);
      server = await start();
      connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      expect((await new Client({ connection }).workflow.getHandle('sdk-probe').describe()).status.name).toBe('RUNNING');
      await connection.close();
      await server.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
