// Which hook event a core event is, if any. A member's return is told from a refuted suspicion
// by where it returns from: alive after dead, left or unreliable is "alive again"; alive after
// suspect is the ordinary course of the failure detector and fires nothing.

import type { CoreEvent } from '../../core/effects.js';
import { RESERVED_PREFIX } from '../../core/reserved-keys.js';
import type { HookEvent } from '../../config/hooks-config.js';

/** One event as a hook sees it (JSON on stdin; the first of a batch also in the environment). */
export interface HookEventRecord {
  readonly event: HookEvent;
  /** Wall-clock time, ISO 8601. */
  readonly at: string;
  readonly member?: string;
  readonly gen?: number;
  readonly status?: string;
  readonly previous?: string;
  readonly addr?: string;
  readonly owner?: string;
  readonly key?: string;
  /** The new value (a byte string as base64), or null when the key was deleted. */
  readonly value?: unknown;
  readonly version?: number;
}

const GONE = new Set(['dead', 'left', 'unreliable']);

export function hookEventOf(e: CoreEvent, at: string): HookEventRecord | undefined {
  switch (e.type) {
    case 'member-joined':
      return { event: 'member-joined', at, member: e.member.id, gen: e.member.gen, addr: e.addr };
    case 'member-status': {
      // A string compare: the detector's statuses are a wider set than this module names.
      const status: string = e.status;
      const m = { at, member: e.member.id, gen: e.member.gen, status, previous: e.previous };
      if (status === 'dead') return { event: 'member-failed', ...m };
      if (status === 'left') return { event: 'member-left', ...m };
      if (status === 'unreliable') return { event: 'member-unreliable', ...m };
      if (status === 'alive' && GONE.has(e.previous)) return { event: 'member-alive-again', ...m };
      return undefined;
    }
    case 'kv-changed':
      if (e.key.startsWith(RESERVED_PREFIX)) return undefined;
      return {
        event: 'key-changed',
        at,
        owner: e.owner.id,
        key: e.key,
        value: e.value instanceof Uint8Array ? Buffer.from(e.value).toString('base64') : e.value,
        version: e.version,
      };
    default:
      return undefined;
  }
}
