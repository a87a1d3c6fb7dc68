/** Coordinates of the real services started by the integration project's global setup. */
export interface TestServices {
  /** Temporal frontend `host:port`. */
  temporalAddress: string;
  /** Temporal namespace to use. */
  temporalNamespace: string;
  /** Superuser connection string of the test PostgreSQL server (database `postgres`). */
  databaseUrl: string;
  /** MinIO (real S3 protocol). */
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string };
  /** The dev server's launch options, so a test can stop and restart it on the same SQLite file. */
  temporal: { binary: string; port: number; dbFile: string; logFile: string };
  /** Prebuilt workflow bundle (built once by global setup from dist/workflows). */
  workflowBundle: string;
}

/** Reads the services that global setup published through `FABRICA_TEST_SERVICES` (a JSON string). */
export function testServices(): TestServices {
  const raw = process.env.FABRICA_TEST_SERVICES;
  if (!raw)
    throw new Error('FABRICA_TEST_SERVICES is not set: run integration tests through `npm test` (Jest global setup)');
  return JSON.parse(raw) as TestServices;
}
