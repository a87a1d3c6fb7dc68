/**
 * Runs one service command and ties its life to the launcher's: started by {@link startProcess} as the leader of the
 * service's process group, with a pipe from the launcher on stdin. When that pipe closes — the launcher exited,
 * crashed or was killed outright (`SIGKILL`) — it stops the whole group (SIGTERM, then SIGKILL after a grace time), so
 * no PostgreSQL, Temporal, worker or API outlives the stack that started it. Signals sent to the group reach the
 * service directly; the watchdog ignores them and exits with the service's own exit code.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

interface WatchdogSpec {
  command: string;
  args: string[];
  uid?: number;
  gid?: number;
  graceMs?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as WatchdogSpec;
const child = spawn(spec.command, spec.args, { stdio: ['ignore', 'inherit', 'inherit'], uid: spec.uid, gid: spec.gid });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);
child.once('error', (err) => {
  process.stderr.write(`\n[fabrica] failed to start ${spec.command}: ${err.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
});

const group = (signal: NodeJS.Signals) => {
  try {
    process.kill(-process.pid, signal);
  } catch {
    // The group is already gone.
  }
};
let orphaned = false;
const parentGone = () => {
  if (orphaned) return;
  orphaned = true;
  process.stderr.write('\n[fabrica] the launcher is gone: stopping this service\n');
  group('SIGTERM');
  setTimeout(() => group('SIGKILL'), spec.graceMs ?? 15_000).unref();
};
process.stdin.on('end', parentGone);
process.stdin.on('close', parentGone);
process.stdin.on('error', parentGone);
process.stdin.resume();
