import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import net from 'node:net';

/** A separate host made of a Linux network namespace joined to this one by a veth pair (and nothing else). */
export interface Host {
  /** Role name (`plant`, `cloud`). */
  name: string;
  /** The `ip netns` name. */
  ns: string;
  /** The host's own address. */
  ip: string;
  /** This (the test's) side of the link: where the host reaches services the test runs or forwards. */
  gateway: string;
}

function ip(...args: string[]): void {
  const res = spawnSync('ip', args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(res.stderr || String(res.error)).trim()}`);
}

/**
 * Creates one host per name: namespace `<tag>-<name>` with loopback up and a veth link to this namespace on its own
 * /24, and no route anywhere else — so two hosts cannot reach each other, and each reaches only what listens on (or
 * is forwarded from) its gateway address. Needs root. `remove()` deletes the namespaces (and so their links).
 */
export function createHosts(names: string[]): { hosts: Record<string, Host>; remove(): void } {
  if (process.getuid?.() !== 0) throw new Error('the multi-host test builds network namespaces and must run as root');
  const tag = `fab${randomInt(1e5, 1e6)}`;
  const subnet = randomInt(200, 250);
  const hosts: Record<string, Host> = {};
  const made: string[] = [];
  const remove = () => {
    for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
  };
  try {
    names.forEach((name, i) => {
      const ns = `${tag}-${name}`;
      const outside = `${tag}${i}o`;
      const inside = `${tag}${i}i`;
      const prefix = `10.${subnet}.${i + 1}`;
      ip('netns', 'add', ns);
      made.push(ns);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      ip('link', 'set', inside, 'netns', ns);
      ip('addr', 'add', `${prefix}.1/24`, 'dev', outside);
      ip('link', 'set', outside, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${prefix}.2/24`, 'dev', inside);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      hosts[name] = { name, ns, ip: `${prefix}.2`, gateway: `${prefix}.1` };
    });
  } catch (err) {
    remove();
    throw err;
  }
  return { hosts, remove };
}

/** The command line that runs `command` on `host` (optionally with `hide` folders masked by empty tmpfs mounts). */
export function onHost(host: Host, command: string, args: string[], hide: string[] = []): [string, string[]] {
  if (hide.length === 0) return ['ip', ['netns', 'exec', host.ns, command, ...args]];
  // A private mount namespace: the folders of other hosts are empty here, as on a separate machine.
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    ...hide.map((d) => `mount -t tmpfs -o size=1m fabrica-hidden ${quote(d)}`),
    `exec ${[command, ...args].map(quote).join(' ')}`,
  ].join(' && ');
  return ['ip', ['netns', 'exec', host.ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script]];
}

/** Whether a TCP connection from `host` to `target` succeeds within 3 s (run by a Node process on that host). */
export function canConnect(host: Host, target: { host: string; port: number }): boolean {
  const probe = `const s=require('net').connect(${target.port},${JSON.stringify(target.host)});s.setTimeout(3000);s.on('connect',()=>{process.stdout.write('open');process.exit(0)});s.on('error',e=>{process.stdout.write(e.code||'error');process.exit(0)});s.on('timeout',()=>{process.stdout.write('timeout');process.exit(0)})`;
  const res = spawnSync('ip', ['netns', 'exec', host.ns, process.execPath, '-e', probe], { encoding: 'utf8' });
  return res.stdout === 'open';
}

/** A TCP forwarder in this namespace: a gateway that lets hosts reach exactly one service (e.g. S3) and no more. */
export async function forwardTcp(
  listen: { host: string; port: number },
  target: { host: string; port: number },
): Promise<net.Server> {
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target.port, target.host);
    inbound.pipe(outbound).pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close);
    outbound.on('error', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
