// When murmur cannot start at all (a config file it cannot use, a missing certificate), the
// person at the rack should still see that something is wrong, not a dark LED that could mean
// anything. Before exiting, the board LED plays the error pattern for a while; under systemd's
// restart loop that keeps it flickering until the config is fixed.

import { setTimeout as sleep } from 'node:timers/promises';
import { SystemCommands } from '../../hal/command.js';
import { FsRoot } from '../../hal/fs-root.js';
import { LedPlayer } from '../../hal/leds/player.js';
import { PATTERNS } from '../../hal/leds/patterns.js';
import { openLed } from '../../hal/leds/select.js';

/** Long enough to be seen by someone looking; short enough not to delay a restart much. MURMUR_FATAL_LED_MS overrides it (tests). */
export const FATAL_LED_MS = 10_000;

/**
 * Plays "error" on the board LED for `ms`, then hands it back. Does nothing on a machine
 * without one, and never throws: the caller is already on its way out with a real error.
 */
export async function showFatalError(root = '/', ms = Number(process.env.MURMUR_FATAL_LED_MS ?? FATAL_LED_MS)): Promise<void> {
  try {
    const { driver } = await openLed({ name: 'status', backend: 'auto' }, { fs: new FsRoot(root), commands: new SystemCommands(), onError: () => {} });
    if (driver.backend === 'simulated') return;
    const player = new LedPlayer(driver);
    const until = Date.now() + ms;
    while (Date.now() < until) {
      player.show(PATTERNS.error);
      await sleep(Math.min(1000, until - Date.now()));
    }
    await player.close();
  } catch {
    // No LED to show it on; the log says what went wrong.
  }
}
