/**
 * Node flags the worker process runs with. Streaming keeps live memory small, but V8 sizes its heap from the
 * machine's RAM and collects lazily: without a budget a worker's RSS drifts past 600 MB on a 24 GB machine while
 * its live data stays under 100 MB. A 256 MB old space (and small young generation) keeps peak RSS near 300 MB.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=256', '--max-semi-space-size=8'];
