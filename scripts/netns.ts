// Private network namespaces for the fleet benchmark and the lab: created here, removed here,
// so the host's own interfaces never see a datagram. Requires root and iproute2.

import { execFileSync, spawnSync } from 'node:child_process';

export function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
  }
}

/** Like `ip`, but a failure is ignored (cleanup of things that may already be gone). */
export function ipQuiet(args: readonly string[]): void {
  spawnSync('ip', args, { stdio: 'ignore' });
}

export function namespaces(): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

/** A namespace with only loopback, up, with IPv4 and IPv6 multicast routed over it. */
export function createLoopbackNamespace(name: string): void {
  ip(['netns', 'add', name]);
  try {
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
    ip(['-n', name, 'link', 'set', 'lo', 'multicast', 'on']);
    ip(['-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo']);
  } catch (e) {
    ipQuiet(['netns', 'del', name]);
    throw e;
  }
}

/** Kill whatever still runs inside a namespace, then delete it (a process left inside would keep its sockets). */
export function deleteNamespace(name: string): void {
  const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  ipQuiet(['netns', 'del', name]);
}

/** Whether this process may create namespaces (root with iproute2). */
export function canCreateNamespaces(): boolean {
  const probe = `murmur-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
  if (r.status !== 0) return false;
  ipQuiet(['netns', 'del', probe]);
  return true;
}
