import { describe, expect, it } from 'vitest';
import { openGpiodLed, parseGpiodVersion, probeGpiod, type GpiodTools } from '../../../hal/leds/gpiod.js';
import { FakeCommands } from '../fake-commands.js';
import { errorSink, GatedCommands, GPIODETECT_PI4, gpiodetectAnswer, gpiosetAnswers, settle } from './fake-pi.js';

const chip = { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 };
const V1: GpiodTools = { version: 1, versionText: 'v1.6.3', interactive: false };
const V2: GpiodTools = { version: 2, versionText: 'v2.1', interactive: true };
const V2_PLAIN: GpiodTools = { version: 2, versionText: 'v2.1', interactive: false };

describe('libgpiod detection', () => {
  it('reads v1 and v2 version lines', () => {
    expect(parseGpiodVersion('gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski')).toEqual({ major: 1, text: 'v1.6.3' });
    expect(parseGpiodVersion('gpioset (libgpiod) v2.1')).toEqual({ major: 2, text: 'v2.1' });
    expect(parseGpiodVersion('gpioset (libgpiod) 2.2.1')).toEqual({ major: 2, text: 'v2.2.1' });
    expect(parseGpiodVersion('gpioset from somewhere else 1.0')).toBeUndefined();
  });

  it('v2: asks --help whether --interactive was built in, then lists chips', async () => {
    const commands = new FakeCommands().on('gpioset', gpiosetAnswers('v2.1')).on('gpiodetect', gpiodetectAnswer(GPIODETECT_PI4));
    const probe = await probeGpiod(commands);
    expect(probe).toEqual({
      ok: true,
      tools: { version: 2, versionText: 'v2.1', interactive: true },
      chips: [
        { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 },
        { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lines: 8 },
      ],
    });
    expect(commands.calls).toEqual(['gpioset --version', 'gpioset --help', 'gpiodetect']);
  });

  it('v2 built without libedit has no interactive mode', async () => {
    const commands = new FakeCommands().on('gpioset', gpiosetAnswers('v2.1', false)).on('gpiodetect', gpiodetectAnswer(GPIODETECT_PI4));
    const probe = await probeGpiod(commands);
    expect(probe.ok && probe.tools.interactive).toBe(false);
  });

  it('v1: no --help question', async () => {
    const commands = new FakeCommands().on('gpioset', gpiosetAnswers('v1.6.3')).on('gpiodetect', gpiodetectAnswer(GPIODETECT_PI4));
    const probe = await probeGpiod(commands);
    expect(probe.ok && probe.tools).toEqual({ version: 1, versionText: 'v1.6.3', interactive: false });
    expect(commands.calls).toEqual(['gpioset --version', 'gpiodetect']);
  });

  it('says what is missing', async () => {
    expect(await probeGpiod(new FakeCommands())).toEqual({ ok: false, reason: 'gpioset not installed' });
    const noDetect = new FakeCommands().on('gpioset', gpiosetAnswers('v1.6.3'));
    expect(await probeGpiod(noDetect)).toEqual({ ok: false, reason: 'gpiodetect not installed (gpioset is)' });
    const odd = new FakeCommands().on('gpioset', { code: 0, stdout: 'gpioset 0.1 (homebrew)\n', stderr: '' });
    const probe = await probeGpiod(odd);
    expect(probe.ok).toBe(false);
    expect(!probe.ok && probe.reason).toMatch(/printed "gpioset 0.1 \(homebrew\)", not libgpiod v1 or v2/);
  });
});

describe('libgpiod v2: one interactive session', () => {
  function open(activeLow = false) {
    const commands = new FakeCommands().on('gpioset', gpiosetAnswers('v2.1'));
    const { errors, sink } = errorSink();
    let now = 10_000;
    const led = openGpiodLed({ commands, tools: V2, chip, line: 17, activeLow, onError: sink, clock: () => now });
    return { led, commands, errors, advance: (ms: number) => (now += ms) };
  }

  it('starts one gpioset --interactive with the LED off and feeds it set lines', () => {
    const { led, commands, errors } = open();
    expect(led.backend).toBe('gpiod');
    expect(led.description).toBe('gpiochip0 line 17 (pinctrl-bcm2711, libgpiod v2.1)');
    expect(commands.calls).toEqual(['gpioset --chip gpiochip0 --consumer murmur --interactive 17=0']);
    led.set(true);
    led.set(false);
    led.set(true);
    expect(commands.sessions).toHaveLength(1);
    expect(commands.sessions[0]!.lines).toEqual(['set 17=1', 'set 17=0', 'set 17=1']);
    // Should murmur die, gpioset is told to exit rather than spin on, holding the line.
    expect(commands.sessions[0]!.lastLine).toBe('exit');
    expect(errors).toEqual([]);
  });

  it('active-low inverts every level, the initial one included', () => {
    const { led, commands } = open(true);
    expect(commands.calls).toEqual(['gpioset --chip gpiochip0 --consumer murmur --interactive 17=1']);
    led.set(true);
    expect(commands.sessions[0]!.lines).toEqual(['set 17=0']);
  });

  it('close drives the LED off and tells gpioset to exit (EOF alone does not end it)', async () => {
    const { led, commands, errors } = open();
    led.set(true);
    await led.close();
    const s = commands.sessions[0]!;
    expect(s.lines).toEqual(['set 17=1', 'set 17=0', 'exit']);
    expect(s.closed).toBe(true);
    led.set(true);
    expect(s.lines).toHaveLength(3);
    expect(commands.sessions).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('restoreSync (process exit) turns the LED off and tells gpioset to exit, synchronously', () => {
    const { led, commands } = open();
    led.set(true);
    (led as typeof led & { restoreSync(): void }).restoreSync();
    expect(commands.sessions[0]!.lines).toEqual(['set 17=1', 'set 17=0', 'exit']);
    led.set(true);
    expect(commands.sessions[0]!.lines).toHaveLength(3);
  });

  it('a dead session is reported, and restarted by a later set at most once per interval', () => {
    const { led, commands, errors, advance } = open();
    led.set(true);
    commands.sessions[0]!.die(1, "gpioset: unable to request lines on chip '/dev/gpiochip0': Device or resource busy");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^gpioset for gpiochip0 line 17 exited \(code 1\): .*Device or resource busy; restarting/);

    advance(1000);
    led.set(false);
    expect(commands.sessions).toHaveLength(1);

    advance(4000);
    led.set(true);
    expect(commands.sessions).toHaveLength(2);
    // The new session starts at the level asked for, not at off.
    expect(commands.calls[1]).toBe('gpioset --chip gpiochip0 --consumer murmur --interactive 17=1');
    led.set(false);
    expect(commands.sessions[1]!.lines).toEqual(['set 17=0']);
    expect(commands.sessions[0]!.lines).toEqual(['set 17=1']);
    expect(errors).toHaveLength(1);
  });

  it('a session that keeps dying costs one start per interval, each one reported', () => {
    const { led, commands, errors, advance } = open();
    commands.sessions[0]!.die(1, 'busy');
    for (let i = 0; i < 50; i++) {
      advance(200);
      led.set(i % 2 === 0);
      commands.sessions.at(-1)!.die(1, 'busy');
    }
    // 10 s of sets at 5 per second: the first start plus one restart every 5 s.
    expect(commands.sessions).toHaveLength(3);
    expect(errors).toHaveLength(3);
  });

  it('a clock that jumps back does not block restarts', () => {
    const { led, commands, advance } = open();
    commands.sessions[0]!.die(1, 'busy');
    advance(-3_600_000);
    led.set(true);
    expect(commands.sessions).toHaveLength(2);
  });

  it('gpioset missing at start is reported, not thrown', () => {
    const commands = new FakeCommands();
    const { errors, sink } = errorSink();
    const led = openGpiodLed({ commands, tools: V2, chip, line: 17, onError: sink });
    expect(() => led.set(true)).not.toThrow();
    expect(errors[0]?.message).toMatch(/exited \(code 127\): gpioset: not installed/);
  });

  it('closing with the session dead still drives the LED off, with a one-shot gpioset', async () => {
    const { led, commands } = open();
    commands.sessions[0]!.die(1, 'killed');
    await led.close();
    expect(commands.calls.at(-1)).toBe('gpioset --chip gpiochip0 --consumer murmur --toggle 0 17=0');
  });
});

describe('libgpiod v1: one gpioset per change', () => {
  it('runs gpioset <chip> <line>=<v> with the exact v1 syntax, starting with the LED off', async () => {
    const commands = new FakeCommands().on('gpioset', gpiosetAnswers('v1.6.3'));
    const { errors, sink } = errorSink();
    const led = openGpiodLed({ commands, tools: V1, chip, line: 17, onError: sink });
    expect(led.description).toBe('gpiochip0 line 17 (pinctrl-bcm2711, libgpiod v1.6.3)');
    await settle();
    led.set(true);
    await settle();
    led.set(false);
    await settle();
    expect(commands.calls).toEqual(['gpioset gpiochip0 17=0', 'gpioset gpiochip0 17=1', 'gpioset gpiochip0 17=0']);
    expect(commands.sessions).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('keeps at most one gpioset in flight and coalesces to the latest level', async () => {
    const commands = new GatedCommands();
    const led = openGpiodLed({ commands, tools: V1, chip, line: 17, onError: () => {} });
    expect(commands.calls).toEqual(['gpioset gpiochip0 17=0']);
    led.set(true);
    led.set(false);
    led.set(true);
    led.set(false);
    led.set(true);
    expect(commands.calls).toHaveLength(1);
    await commands.finishOne();
    // Only the latest level is applied; the intermediate blinks are dropped.
    expect(commands.calls).toEqual(['gpioset gpiochip0 17=0', 'gpioset gpiochip0 17=1']);
    led.set(false);
    led.set(true);
    await commands.finishOne();
    // Back at the level already applied: nothing to run.
    expect(commands.calls).toHaveLength(2);
    expect(commands.inFlight).toBe(0);
    expect(commands.maxInFlight).toBe(1);
  });

  it('close waits for the run in flight, then drives the LED off', async () => {
    const commands = new GatedCommands();
    const led = openGpiodLed({ commands, tools: V1, chip, line: 17, activeLow: true, onError: () => {} });
    await commands.finishOne();
    led.set(true);
    const closing = led.close();
    await settle();
    expect(commands.calls).toEqual(['gpioset gpiochip0 17=1', 'gpioset gpiochip0 17=0']);
    await commands.finishOne();
    expect(commands.calls.at(-1)).toBe('gpioset gpiochip0 17=1');
    await commands.finishOne();
    await closing;
    expect(commands.maxInFlight).toBe(1);
    led.set(true);
    await settle();
    expect(commands.calls).toHaveLength(3);
  });

  it('a failing gpioset goes to the error sink; the next set tries again', async () => {
    let fail = true;
    const commands = new FakeCommands().on('gpioset', () =>
      fail ? { code: 1, stdout: '', stderr: 'gpioset: error setting the GPIO line values: Device or resource busy\n' } : { code: 0, stdout: '', stderr: '' },
    );
    const { errors, sink } = errorSink();
    const led = openGpiodLed({ commands, tools: V1, chip, line: 17, onError: sink });
    await settle();
    expect(errors.map((e) => e.message)).toEqual(['gpioset gpiochip0 17=0 failed (code 1): gpioset: error setting the GPIO line values: Device or resource busy']);
    expect(commands.calls).toHaveLength(1);
    fail = false;
    led.set(false);
    await settle();
    expect(commands.calls).toEqual(['gpioset gpiochip0 17=0', 'gpioset gpiochip0 17=0']);
    expect(errors).toHaveLength(1);
  });
});

describe('libgpiod v2 without --interactive', () => {
  it('falls back to one gpioset --toggle 0 per change', async () => {
    const commands = new FakeCommands().on('gpioset', gpiosetAnswers('v2.1', false));
    const led = openGpiodLed({ commands, tools: V2_PLAIN, chip, line: 17, onError: () => {} });
    expect(led.description).toBe('gpiochip0 line 17 (pinctrl-bcm2711, libgpiod v2.1, one gpioset per change)');
    await settle();
    led.set(true);
    await settle();
    expect(commands.calls).toEqual([
      'gpioset --chip gpiochip0 --consumer murmur --toggle 0 17=0',
      'gpioset --chip gpiochip0 --consumer murmur --toggle 0 17=1',
    ]);
    expect(commands.sessions).toEqual([]);
  });
});
