// Which hook event a core event is, if any. Member events follow verdicts (runtime/core/
// messages.ts): a suspicion that ends with the member answering is the ordinary course of the
// failure detector and fires nothing, and a suspected unreliable member that answers is not
// reported unreliable a second time.
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

export function hookEventOf(e: CoreEvent, at: string): HookEventRecord | undefined {
  switch (e.type) {
    case 'member-joined':
      return { event: 'member-joined', at, member: e.member.id, gen: e.member.gen, addr: e.addr };
    case 'member-status': {
      // Verdicts, not suspicions: most suspicions end with the member answering within a second.
      if (e.verdict === e.previousVerdict) return undefined;
      const m = { at, member: e.member.id, gen: e.member.gen, status: e.verdict, previous: e.previousVerdict };
      if (e.verdict === 'dead') return { event: 'member-failed', ...m };
      if (e.verdict === 'left') return { event: 'member-left', ...m };
      if (e.verdict === 'unreliable') return { event: 'member-unreliable', ...m };
      return { event: 'member-alive-again', ...m };
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
