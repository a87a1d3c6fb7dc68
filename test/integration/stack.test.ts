import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { testServices } from '../support/services.js';

describe('test services', () => {
  it('PostgreSQL accepts queries', async () => {
    const client = new pg.Client({ connectionString: testServices().databaseUrl });
    await client.connect();
    const res = await client.query<{ server_version: string }>('SHOW server_version');
    await client.end();
    expect(res.rows[0]!.server_version).toMatch(/^\d+/);
  });

  it('Temporal dev server has the Fábrica search attributes', async () => {
    const connection = await Connection.connect({ address: testServices().temporalAddress });
    const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    await connection.close();
    expect(Object.keys(res.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['Pipeline', 'Partition', 'RunKind', 'PipelineStatus']),
    );
  });
});
