// Pi-shaped fixtures for the LED backend tests: the GPIO chips real kernels show, libgpiod
// answers, and a FsRoot that behaves like the kernel where the tests need it to (export makes
// gpioN appear, unexport removes it, selecting `timer` resets the blink delays).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandResult, CommandRunner, CommandSession } from '../../../hal/command.js';
import { FakeTree, FailingFs } from '../fake-tree.js';

export interface ChipFixture {
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/** Pi 4 on a 6.6+ kernel: the header chip moved to base 512, the expander follows it. */
export const PI4_KERNEL_66: ChipFixture[] = [
  { name: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
  { name: 'gpiochip570', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
];

/** Pi 3 on an older kernel: base 0, expander high up. */
export const PI3_OLD_KERNEL: ChipFixture[] = [
  { name: 'gpiochip0', label: 'pinctrl-bcm2835', base: 0, ngpio: 54 },
  { name: 'gpiochip504', label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 },
];

/** Pi 5: the SoC's own GPIO blocks come first; the header is on RP1 at 571. */
export const PI5: ChipFixture[] = [
  { name: 'gpiochip512', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
  { name: 'gpiochip544', label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
  { name: 'gpiochip548', label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17 },
  { name: 'gpiochip565', label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
  { name: 'gpiochip571', label: 'pinctrl-rp1', base: 571, ngpio: 54 },
];

export function sysfsGpio(tree: FakeTree, chips: ChipFixture[]): FakeTree {
  tree.file('/sys/class/gpio/export', '').file('/sys/class/gpio/unexport', '');
  for (const c of chips) {
    const dir = `/sys/class/gpio/${c.name}`;
    tree.file(`${dir}/label`, `${c.label}\n`).file(`${dir}/base`, `${c.base}\n`).file(`${dir}/ngpio`, `${c.ngpio}\n`);
  }
  return tree;
}

export const GPIODETECT_PI4 = 'gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n';
export const GPIODETECT_PI5 =
  'gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip1 [gpio-brcmstb@107d508520] (4 lines)\n' +
  'gpiochip2 [gpio-brcmstb@107d517c00] (17 lines)\ngpiochip3 [gpio-brcmstb@107d517c20] (6 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n';

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });

/** gpioset's answers to --version and --help; anything else (setting a line) succeeds. */
export function gpiosetAnswers(version: 'v1.6.3' | 'v2.1', interactive = true) {
  return (args: readonly string[]): CommandResult => {
    if (args[0] === '--version') return ok(`gpioset (libgpiod) ${version}\nCopyright (C) 2017-2023 Bartosz Golaszewski\n`);
    if (args[0] === '--help') {
      const i = interactive ? '  -i, --interactive\tset the lines then wait for additional set commands\n' : '';
      return ok(`Usage: gpioset [OPTIONS] <line=value>...\n  -c, --chip <chip>\trestrict scope to a particular chip\n${i}  -l, --active-low\n`);
    }
    return ok();
  };
}

export const gpiodetectAnswer = (stdout: string) => (): CommandResult => ok(stdout);

/**
 * The kernel side of the files the backends write: export creates gpioN (after the write, as
 * the kernel does), unexport removes it, selecting the `timer` trigger resets its delays to
 * 500 ms. Every successful write is recorded as "path <- text".
 */
export class KernelFs extends FailingFs {
  readonly writes: string[] = [];

  override writeSync(p: string, text: string): void {
    super.writeSync(p, text);
    this.writes.push(`${p} <- ${text}`);
    const real = (q: string): string => join(this.root, q);
    if (p === '/sys/class/gpio/export') {
      const dir = real(`/sys/class/gpio/gpio${text.trim()}`);
      mkdirSync(dir, { recursive: true });
      for (const [f, v] of [['direction', 'in\n'], ['value', '0\n'], ['active_low', '0\n']] as const) writeFileSync(join(dir, f), v);
    }
    if (p === '/sys/class/gpio/unexport') rmSync(real(`/sys/class/gpio/gpio${text.trim()}`), { recursive: true, force: true });
    const led = /^(\/sys\/class\/leds\/[^/]+)\/trigger$/.exec(p);
    if (led && text === 'timer') {
      writeFileSync(real(`${led[1]}/delay_on`), '500\n');
      writeFileSync(real(`${led[1]}/delay_off`), '500\n');
    }
  }
}

/** Lets gpioset runs finish one at a time, to see what is in flight and what was coalesced. */
export class GatedCommands implements CommandRunner {
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  result: CommandResult = ok();
  readonly #waiting: Array<() => void> = [];

  run(cmd: string, args: readonly string[]): Promise<CommandResult> {
    this.calls.push([cmd, ...args].join(' '));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const result = this.result;
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.inFlight--;
        resolve(result);
      }),
    );
  }

  start(): CommandSession {
    throw new Error('no sessions here');
  }

  /** Finishes the oldest run and lets the driver react. */
  async finishOne(): Promise<void> {
    const next = this.#waiting.shift();
    if (!next) throw new Error('nothing in flight');
    next();
    await settle();
  }
}

/** Lets promise chains and a setImmediate turn run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** An error sink that keeps what it was given. */
export function errorSink(): { errors: Error[]; sink: (e: Error) => void } {
  const errors: Error[] = [];
  return { errors, sink: (e) => errors.push(e) };
}
