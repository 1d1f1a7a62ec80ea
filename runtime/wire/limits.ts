import { MAX_MESSAGES_PER_DATAGRAM } from '../core/packing.js';

// Limits on what a decoded message may contain. A datagram is at most 1200 bytes, so these are
// about keeping individual fields sane (memory per member, log lines), not about allocation.

/** Node ids are names like "pi-kitchen-03"; 64 is generous and bounds per-member memory. */
export const MAX_ID_LENGTH = 64;
/** "[fe80::aaaa:bbbb:cccc:dddd%wlan0]:65535" is ~40; leave room for names. */
export const MAX_ADDR_LENGTH = 128;
/** Keys like "sensor/ds18b20-28-0000075d7a5c/temp". */
export const MAX_KEY_LENGTH = 128;
/** Values are small by design: readings, states, hints. Bulk data does not belong in gossip. */
export const MAX_VALUE_LENGTH = 1024;
/** No message can carry more entries than fit in one datagram anyway. */
export const MAX_ENTRIES = 256;
/** Messages per datagram; the core's packer never puts more in one. */
export const MAX_MESSAGES = MAX_MESSAGES_PER_DATAGRAM;
/** Ed25519 sizes (runtime/trust/ed25519.ts); the wire checks lengths, the host checks signatures. */
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
/** Ids per WhoIs: one datagram of passports answers it. */
export const MAX_WHOIS_IDS = 8;
