// The one place a node is put together: core, sealed channel, gatekeeper and host, from one
// options object. The agent, the fleet benchmark, the receive fuzz test and the simulator all
// build their nodes here, so what they run is what a device runs.
//
// What differs between them is injected: the clock, the timer scheduler and the transport
// (real time and UDP on a device, the event queue and the simulated network in the simulator),
// the randomness (the OS's, or a seeded stream), and for speed in large simulations, memoised
// pure functions (opening a frame, decoding a datagram, checking a signature).

import type { CoreEvent, Rng } from '../core/effects.js';
import type { Address, NodeId } from '../core/messages.js';
import { Node } from '../core/node.js';
import { accusersPerSilence, type Profile } from '../core/profiles.js';
import { FleetChannel, pooledRandom, type FrameOpener } from '../crypto/fleet-channel.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Transport } from '../net/transport.js';
import type { SigningKey } from '../trust/ed25519.js';
import { Gatekeeper, type GateOptions } from '../trust/gatekeeper.js';
import type { Verifier } from '../trust/records.js';
import { sizeOf } from '../wire/index.js';
import { NodeHost, sealedProfile, type DatagramDecoder, type HostOptions } from './node-host.js';
import type { TimerScheduler } from './scheduler.js';

/** What a device proves itself and its fleet with. */
export interface SecurityOptions {
  /** The fleet keyring: datagrams are sealed under its primary key. */
  readonly keyring: Keyring;
  /** This device's Ed25519 key: it signs its passport, key/values and accusations. */
  readonly deviceKey: SigningKey;
  /** The admin's signature over (id, device public key), when the fleet has an admin. */
  readonly certificate?: Uint8Array | undefined;
  /** Set: every member's passport needs a certificate from this key. */
  readonly adminPublicKey?: Uint8Array | undefined;
  readonly isRevoked?: (publicKey: Uint8Array) => boolean;
  /** Random bytes for seal nonces (default: the OS's, pooled); a simulator passes its seeded stream. */
  readonly nonces?: (n: number) => Uint8Array;
  /** Signature check (default ed25519.ts `verifyBytes`). */
  readonly verify?: Verifier;
  /** Frame opening (default seal.ts `open`). */
  readonly open?: FrameOpener;
}

export interface AssemblyOptions {
  readonly id: NodeId;
  /** Boot counter; grows on every start. */
  readonly gen: number;
  /** The profile as on the wire: with security, the core packs what the seal leaves of its budget. */
  readonly profile: Profile;
  readonly transport: Transport;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
  readonly scheduler: TimerScheduler;
  /** The core's randomness (probe order, fan-out, jitter). */
  readonly rng: Rng;
  /** Whether the node uses the multicast group (the configured intent, not whether it is joined yet). */
  readonly multicast: boolean;
  readonly seeds?: readonly Address[];
  /** The fleet's security, or `insecure: true` for the bare protocol (benchmarks and simulations only). */
  readonly security: SecurityOptions | { readonly insecure: true };
  readonly onEvent?: (e: CoreEvent) => void;
  readonly onError?: (where: string, e: Error, count: number) => void;
  /** A datagram opened under a key that is not the primary (runtime/agent/key-sync.ts). */
  readonly onOldKey?: (keyId: number, state: 'active' | 'retired', from: Address) => void;
  /** A sealed control frame (keyring offer). */
  readonly onControl?: HostOptions['onControl'];
  readonly decode?: DatagramDecoder;
}

export interface AssembledNode {
  readonly host: NodeHost;
  readonly node: Node;
  /** Undefined for an insecure node. */
  readonly channel: FleetChannel | undefined;
  readonly gate: Gatekeeper | undefined;
}

/** What the gatekeeper asks of the core it guards. */
export function coreView(
  node: () => Node | undefined,
  clock: () => number,
): Pick<GateOptions, 'held' | 'isMember' | 'accusationIsNews' | 'queryIsNews' | 'queryReplyIsNews' | 'clock'> {
  return {
    held: {
      version: (owner, key) => node()?.heldVersion(owner, key),
      max: (owner) => node()?.highestHeld(owner) ?? 0,
    },
    isMember: (id) => node()?.isKnown(id) ?? false,
    accusationIsNews: (a) => node()?.accusationIsNews(a) ?? true,
    queryIsNews: (q) => node()?.queryIsNews(q) ?? true,
    queryReplyIsNews: (r) => node()?.queryReplyIsNews(r) ?? true,
    clock,
  };
}

/**
 * Build a node and its host, listening on `opts.transport`. The host is not started: the
 * caller may restore state first, then calls `host.start()`.
 */
export function assembleNode(opts: AssemblyOptions): AssembledNode {
  const sec = 'insecure' in opts.security ? undefined : opts.security;
  let node: Node | undefined;
  const profile = sec ? sealedProfile(opts.profile) : opts.profile;
  const gate = sec
    ? new Gatekeeper({
        self: { id: opts.id, gen: opts.gen },
        accusersPerStatement: accusersPerSilence(profile),
        key: sec.deviceKey,
        certificate: sec.certificate,
        adminPublicKey: sec.adminPublicKey,
        ...(sec.isRevoked ? { isRevoked: sec.isRevoked } : {}),
        ...(sec.verify ? { verify: sec.verify } : {}),
        ...coreView(() => node, opts.clock),
      })
    : undefined;
  const channel = sec ? new FleetChannel(sec.keyring, opts.id, opts.gen, sec.nonces ?? pooledRandom(), sec.open) : undefined;
  node = new Node({
    id: opts.id,
    gen: opts.gen,
    addr: opts.transport.localAddress,
    profile,
    rng: opts.rng,
    size: sizeOf,
    multicast: opts.multicast,
    ...(opts.seeds ? { seeds: opts.seeds } : {}),
    ...(gate ? { signer: gate.signer } : {}),
  });
  const host = new NodeHost({
    node,
    clock: opts.clock,
    scheduler: opts.scheduler,
    transport: opts.transport,
    budget: opts.profile.datagramBudget,
    ...(channel ? { channel } : {}),
    ...(gate ? { gate } : {}),
    ...(opts.decode ? { decode: opts.decode } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
    ...(opts.onOldKey ? { onOldKey: opts.onOldKey } : {}),
    ...(opts.onControl ? { onControl: opts.onControl } : {}),
  });
  opts.transport.listen((bytes, from, viaMulticast) => host.receive(bytes, from, viaMulticast));
  return { host, node, channel, gate };
}
