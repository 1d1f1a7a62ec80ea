export * from './version.js';
export * from './limits.js';
export { encodeMessage, sizeOf, toArray } from './encode.js';
export { datagramSize, decodeDatagram, encodeDatagram, DatagramTooLargeError, type DecodeResult, type Rejection, type RejectReason } from './datagram.js';
export { scanItem, MalformedError, MAX_DEPTH } from './scan.js';
