// The live stream behind GET /v1/watch: every key change and member status change, as it
// happens, to local programs that subscribed (a Python script, Node-RED, `murmur watch`).
//
// A watcher that stops reading must not make murmur buffer without bound: past MAX_BUFFERED
// bytes waiting on its socket it is dropped (the stream ends with a "dropped" line it may never
// read), and counted.

export type WatchEvent =
  | { readonly type: 'kv'; readonly owner: string; readonly key: string; readonly value: unknown; readonly version: number; readonly deleted?: true }
  | { readonly type: 'member'; readonly id: string; readonly status: string; readonly previous: string | null; readonly gen: number; readonly verdict?: string; readonly previousVerdict?: string };

export interface WatchFilter {
  /** Only keys starting with this (kv events); member events pass when empty. */
  readonly prefix: string;
  /** Only this device: kv events it owns, member events about it. */
  readonly device: string | undefined;
}

export interface WatchSink {
  /** Bytes queued on the connection and not yet sent. */
  readonly buffered: () => number;
  readonly send: (e: WatchEvent) => void;
  readonly drop: (why: string) => void;
}

/** How much a slow watcher may have queued before it is dropped. */
export const MAX_BUFFERED = 1 << 20;
/** Concurrent watchers; a program that leaks connections must not exhaust the node. */
export const MAX_WATCHERS = 32;

export class WatchHub {
  readonly #sinks = new Map<WatchSink, WatchFilter>();
  dropped = 0;

  /** `id`: this node, named in each stream's first line. */
  constructor(readonly id: string) {}

  get size(): number {
    return this.#sinks.size;
  }

  /** Adds a watcher; false when there are already MAX_WATCHERS. Returns the unsubscribe. */
  subscribe(filter: WatchFilter, sink: WatchSink): (() => void) | undefined {
    if (this.#sinks.size >= MAX_WATCHERS) return undefined;
    this.#sinks.set(sink, filter);
    return () => this.#sinks.delete(sink);
  }

  /** Never throws: it runs inside the protocol core's event path. A failing watcher is dropped. */
  publish(e: WatchEvent): void {
    for (const [sink, f] of this.#sinks) {
      if (!matches(e, f)) continue;
      try {
        if (sink.buffered() > MAX_BUFFERED) {
          this.#drop(sink, `more than ${MAX_BUFFERED} bytes unread`);
          continue;
        }
        sink.send(e);
      } catch (err) {
        this.#drop(sink, (err as Error).message);
      }
    }
  }

  #drop(sink: WatchSink, why: string): void {
    this.#sinks.delete(sink);
    this.dropped++;
    try {
      sink.drop(why);
    } catch {
      // Already gone.
    }
  }
}

export function matches(e: WatchEvent, f: WatchFilter): boolean {
  if (e.type === 'kv') return e.key.startsWith(f.prefix) && (f.device === undefined || e.owner === f.device);
  return f.prefix === '' && (f.device === undefined || e.id === f.device);
}
