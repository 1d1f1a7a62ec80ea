// A real Mosquitto broker for tests, on loopback, with no persistence (a restart loses every
// retained message, which is what the bridge must make good). Debian's mosquitto package;
// .ci/run installs it when missing.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const haveMosquitto = existsSync(MOSQUITTO);

export interface Broker {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  /** Stop and start again on the same port: retained messages are gone. */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function accepting(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `extra`: more mosquitto.conf lines (a password file, TLS files). */
export async function startBroker(dir: string, extra: readonly string[] = ['allow_anonymous true'], scheme: 'mqtt' | 'mqtts' = 'mqtt'): Promise<Broker> {
  const port = await freePort();
  const conf = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'persistence false', ...extra, ''].join('\n'));
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    await accepting(port);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}
