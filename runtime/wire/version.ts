/** First byte of every datagram. A receiver drops datagrams of a version it does not speak. */
export const WIRE_VERSION = 1;

/**
 * Bytes per datagram, UDP payload. IPv6 guarantees a 1280-byte MTU; minus 40 bytes of IPv6
 * header and 8 of UDP, 1232 remain. 1200 leaves room for a later seal (key id, nonce, MAC)
 * and means a datagram is never fragmented, which on Wi-Fi would multiply loss.
 */
export const DEFAULT_DATAGRAM_BUDGET = 1200;
