import { describe, expect, it } from '@jest/globals';
import { Connection, ServiceError } from '@temporalio/client';
import pg from 'pg';
import { errorBody } from '../../api/common/exception.filter.js';

const caught = async (f: () => Promise<unknown>) =>
  f().then(
    () => undefined,
    (e: unknown) => e,
  );

/** 503 only for a dependency that is really unavailable, recognised by codes, not by words in a message. */
describe('errorBody', () => {
  it('answers 503 for PostgreSQL and Temporal that cannot be reached (real client errors)', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://a:b@127.0.0.1:1/x' });
    const refused = await caught(() => pool.query('SELECT 1'));
    await pool.end();
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(errorBody(refused).statusCode).toBe(503);
    const temporal = await caught(() => Connection.connect({ address: '127.0.0.1:1', connectTimeout: 300 }));
    expect(errorBody(temporal).statusCode).toBe(503);
    const deadline = new ServiceError('Failed to start Workflow', {
      cause: Object.assign(new Error('4 Deadline exceeded'), { code: 4 }),
    });
    expect(errorBody(deadline).statusCode).toBe(503);
  });

  it('answers 503 for the SQLSTATE classes of an unavailable database', () => {
    for (const code of ['08006', '57P01', '57P03', '53300'])
      expect(errorBody(Object.assign(new Error('x'), { code })).statusCode).toBe(503);
  });

  it('answers 500 for other failures, even when their message mentions "connect" or "timed out"', () => {
    expect(errorBody(new Error('cannot connect the dots')).statusCode).toBe(500);
    expect(errorBody(new Error('the operation timed out in user code')).statusCode).toBe(500);
    // A constraint violation (class 23) and a syntax error (42601) are our bugs, not an outage.
    expect(errorBody(Object.assign(new Error('duplicate key'), { code: '23505' })).statusCode).toBe(500);
    expect(errorBody(Object.assign(new Error('syntax'), { code: '42601' })).statusCode).toBe(500);
    // A Temporal NOT_FOUND or INVALID_ARGUMENT is not an outage either.
    expect(
      errorBody(new ServiceError('nope', { cause: Object.assign(new Error('5 NOT_FOUND'), { code: 5 }) })).statusCode,
    ).toBe(500);
    expect(errorBody(new Error('internal')).message).toBe('internal error');
  });
});

describe('toApplicationFailure', () => {
  it('makes a CopyBinaryError non-retryable (retrying cannot change the query or the data)', async () => {
    const { CopyBinaryError } = await import('../../activities/formats/pg-copy-binary.js');
    const { toApplicationFailure } = await import('../../activities/failures.js');
    const { ApplicationFailure } = await import('@temporalio/common');
    const f = toApplicationFailure(new CopyBinaryError('a query parameter contains a NUL character'));
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f).toMatchObject({ nonRetryable: true, type: 'CopyBinaryError' });
    const other = new Error('ECONNRESET');
    expect(toApplicationFailure(other)).toBe(other);
  });
});
