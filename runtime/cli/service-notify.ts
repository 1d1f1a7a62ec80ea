// Tells systemd that `murmur start` is ready, alive (the watchdog) and stopping. systemd listens
// on a Unix datagram socket (NOTIFY_SOCKET), and Node has no Unix datagram sockets without a
// native addon, so each message is sent by systemd's own `systemd-notify`. That is a separate
// process, so the unit says NotifyAccess=all; systemd-notify waits until systemd has taken
// the message, so it is not lost when the short-lived sender exits first.
//
// The watchdog is fed from a timer on the event loop: a loop that is stuck (or a process that
// is wedged) stops feeding it, and systemd restarts the service.

import { execFile } from 'node:child_process';
import type { Logger } from '../log/log.js';

/** Sends one notification: the arguments of systemd-notify. Resolves when it has been sent. */
export type NotifySender = (args: readonly string[]) => Promise<void>;

export interface ServiceNotifier {
  /** READY=1, and starts feeding the watchdog when the unit has one. */
  ready(): void;
  /** STOPPING=1, and stops feeding the watchdog. */
  stopping(): void;
}

export interface NotifierOptions {
  readonly send?: NotifySender;
  readonly pid?: number;
  readonly setInterval?: (f: () => void, ms: number) => unknown;
  readonly clearInterval?: (t: unknown) => void;
}

/** Feeds per watchdog period: one late feed (a slow spawn on a busy Pi) must not cost a restart. */
const FEEDS_PER_PERIOD = 3;

export const systemdNotify: NotifySender = (args) =>
  new Promise((resolve, reject) => {
    execFile('systemd-notify', [...args], { timeout: 10_000 }, (e, _out, stderr) => (e ? reject(new Error(`systemd-notify ${args.join(' ')}: ${stderr.trim() || e.message}`)) : resolve()));
  });

/** A notifier when systemd started this process with a notify socket; undefined otherwise (a terminal, a test). */
export function serviceNotifier(env: Readonly<Record<string, string | undefined>>, log: Logger, opts: NotifierOptions = {}): ServiceNotifier | undefined {
  if (!env['NOTIFY_SOCKET']) return undefined;
  const send = opts.send ?? systemdNotify;
  const every = opts.setInterval ?? ((f, ms) => setInterval(f, ms).unref());
  const stop = opts.clearInterval ?? ((t) => clearInterval(t as NodeJS.Timeout));
  const period = watchdogPeriodMs(env, opts.pid ?? process.pid);
  let failed = false;
  const notify = (args: readonly string[]): void => {
    send(args).then(
      () => {
        if (failed) log.log('info', 'service-notify-ok', {});
        failed = false;
      },
      (e: unknown) => {
        // Logged once per outage: a feed every few seconds would otherwise flood the journal.
        if (!failed) log.log('warn', 'service-notify-failed', { error: (e as Error).message });
        failed = true;
      },
    );
  };
  let timer: unknown;
  return {
    ready() {
      notify(['--ready']);
      if (period !== undefined && timer === undefined) {
        timer = every(() => notify(['WATCHDOG=1']), Math.max(1, Math.floor(period / FEEDS_PER_PERIOD)));
        log.log('info', 'watchdog', { periodMs: period });
      }
    },
    stopping() {
      if (timer !== undefined) stop(timer);
      timer = undefined;
      notify(['STOPPING=1']);
    },
  };
}

/** The unit's WatchdogSec in ms, when it is meant for this process (WATCHDOG_PID, when set, names it). */
export function watchdogPeriodMs(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isInteger(usec) || usec <= 0) return undefined;
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return undefined;
  return usec / 1000;
}
