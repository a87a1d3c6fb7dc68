import { createServer, type Server } from 'node:http';
import { log } from './log.js';

/** What the worker process is doing, as its readiness reports it. */
export type WorkerPhase = 'starting' | 'polling' | 'draining';

/** The worker's health server: `GET /live` and `GET /ready`. */
export interface WorkerHealthServer {
  /** Moves readiness on (`polling`: 200; `starting`, `draining`: 503). */
  setPhase(phase: WorkerPhase): void;
  /** The bound port (undefined when the server could not listen). */
  port: number | undefined;
  close(): Promise<void>;
}

/**
 * Serves the worker's probes on `port` (all interfaces): `/live` answers 200 as long as the process runs (it never
 * looks at a dependency, so a database outage does not get the worker restarted), `/ready` 200 only while the
 * worker polls its task queue, 503 with the phase while it starts or drains. A port already in use (a second worker
 * on the host) is logged and the worker runs without probes, as with the metrics exporter.
 */
export async function startWorkerHealthServer(port: number, host = '0.0.0.0'): Promise<WorkerHealthServer> {
  let phase: WorkerPhase = 'starting';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { status: 'method not allowed' });
    if (path === '/live') return answer(200, { status: 'ok' });
    if (path === '/ready') return answer(phase === 'polling' ? 200 : 503, { status: phase });
    answer(404, { status: 'not found' });
  });
  const bound = await new Promise<number | undefined>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      log.warn('worker health server not started', { port, error: err.code ?? err.message });
      resolve(undefined);
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
  return {
    port: bound,
    setPhase(next) {
      phase = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (bound === undefined) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
