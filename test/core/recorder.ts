// An Effects sink that only records, for tests that drive a core Node by hand.
import type { CoreEvent, Effects, Rng, TimerToken } from '../../runtime/core/effects.js';
import type { Address, Message } from '../../runtime/core/messages.js';

export class Recorder implements Effects {
  sends: { to: Address; msgs: readonly Message[] }[] = [];
  /** `lateMs`: how much later the core allows the timer to fire (0 when it said nothing). */
  timers: { at: number; token: TimerToken; lateMs: number }[] = [];
  events: CoreEvent[] = [];
  send(to: Address, msgs: readonly Message[]): void {
    this.sends.push({ to, msgs });
  }
  setTimer(at: number, token: TimerToken, lateMs = 0): void {
    this.timers.push({ at, token, lateMs });
  }
  emit(event: CoreEvent): void {
    this.events.push(event);
  }
  clear(): void {
    this.sends = [];
    this.timers = [];
    this.events = [];
  }
  sent<T extends Message['type']>(type: T): Extract<Message, { type: T }>[] {
    return this.sends.flatMap((s) => s.msgs.filter((m): m is Extract<Message, { type: T }> => m.type === type));
  }
}

/** A deterministic stand-in for randomness (a tiny LCG), good enough for hand-driven tests. */
export function lcg(seed = 1): Rng {
  let s = seed >>> 0;
  return {
    next() {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    },
  };
}

/** Rough size measure so core tests do not depend on the codec. */
export const roughSize = (m: Message): number => JSON.stringify(m).length;
