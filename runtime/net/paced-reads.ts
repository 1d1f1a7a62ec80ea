// Reading a node's sockets in batches. A lone device pays for every wake-up of its process: on
// a small board each one costs about as much as handling a datagram (the kernel switches to
// the process, libuv polls, V8 enters, caches are cold), and a fleet of 128 sends a device some
// 500 datagrams a second, each one waking it. After a batch is read, the sockets stop being
// read for at most `pauseMs`; whatever arrives meanwhile waits in the kernel's receive buffer
// and is read in one go when reading resumes: when the pause ends, or earlier when the node's
// own timer comes due (runtime/host/scheduler.ts resumes reads first, so no timer ever decides
// on silence while an answer sits unread). Datagrams are late by at most `pauseMs`, never lost
// to the pause: the kernel keeps them, and a batch as large as libuv reads from a socket in one
// poll (32) may have left more behind, so reading then goes on without a pause.
//
// node:dgram has no public way to stop reading a bound socket; its handle (UDPWrap) has
// recvStop and recvStart, which node:dgram itself uses. Where the handle is not there in that
// shape (another Node version) reads stay unpaced.

import type dgram from 'node:dgram';

/** Datagrams libuv reads from one socket per poll (uv__udp_recvmsg); a batch this large may not be all. */
const FULL_BATCH = 32;

interface UdpHandle {
  recvStart(): number;
  recvStop(): number;
}

/** node:dgram's private state key, found on the first socket and the same for every one after. */
let stateSymbol: symbol | undefined;

/**
 * The socket's UDPWrap, when this Node keeps it where node:dgram 20 does. Looked up at each
 * pause and resume, not kept: a socket the transport closes loses its handle.
 */
function udpHandle(socket: dgram.Socket): UdpHandle | undefined {
  stateSymbol ??= Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = stateSymbol;
  const handle = state ? (socket as unknown as Record<symbol, { handle?: Partial<UdpHandle> } | undefined>)[state]?.handle : undefined;
  return typeof handle?.recvStart === 'function' && typeof handle.recvStop === 'function' ? (handle as UdpHandle) : undefined;
}

export class PacedReads {
  readonly #pauseMs: number;
  readonly #sockets: dgram.Socket[] = [];
  #batchOpen = false;
  #batchSize = 0;
  #paused = false;
  #resumeTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Batches read (each one a wake-up at most) and pauses ended early by a timer: for tests and benchmarks. */
  readonly stats = { batches: 0, resumedEarly: 0 };

  /** `pauseMs` 0: every datagram is read as it arrives. */
  constructor(pauseMs: number) {
    this.#pauseMs = pauseMs;
  }

  get enabled(): boolean {
    return this.#pauseMs > 0;
  }

  /**
   * Paces `socket` until it closes. The transport replaces sender sockets whenever interfaces
   * change (a DHCP renew, a Wi-Fi roam), so a closed one must leave the list, or a device that
   * roams for months would keep every socket it ever had.
   */
  add(socket: dgram.Socket): void {
    if (!this.enabled || !udpHandle(socket)) return;
    this.#sockets.push(socket);
    socket.once('close', () => {
      const i = this.#sockets.indexOf(socket);
      if (i >= 0) this.#sockets.splice(i, 1);
    });
  }

  /** Sockets paced now. */
  get size(): number {
    return this.#sockets.length;
  }

  /**
   * A datagram was read. The first of a batch schedules the pause for after the poll phase,
   * so every datagram already waiting on any socket is read in this same wake-up.
   */
  read(): void {
    if (!this.enabled || this.#closed || this.#sockets.length === 0) return;
    this.#batchSize++;
    if (this.#batchOpen) return;
    this.#batchOpen = true;
    this.stats.batches++;
    setImmediate(() => {
      this.#batchOpen = false;
      const full = this.#batchSize >= FULL_BATCH;
      this.#batchSize = 0;
      if (!full) this.#pause();
    });
  }

  /**
   * Read again now (a timer is due). True when reads were paused: what waits in the sockets is
   * read in this loop's poll phase, so a caller that wants it first defers its work with
   * setImmediate.
   */
  resume(): boolean {
    if (!this.#paused) return false;
    this.stats.resumedEarly++;
    this.#resume();
    return true;
  }

  close(): void {
    this.#closed = true;
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
    this.#paused = false;
  }

  #pause(): void {
    if (this.#paused || this.#closed) return;
    for (const s of this.#sockets) udpHandle(s)?.recvStop();
    this.#paused = true;
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined;
      this.#resume();
    }, this.#pauseMs);
  }

  #resume(): void {
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
    this.#paused = false;
    if (this.#closed) return;
    for (const s of this.#sockets) udpHandle(s)?.recvStart();
  }
}
