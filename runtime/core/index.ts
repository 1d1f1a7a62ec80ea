export * from './messages.js';
export * from './effects.js';
export * from './profiles.js';
export * from './timing.js';
export { Node, type NodeOptions } from './node.js';
export type { MemberView } from './member.js';
export type { LiveValue } from './kv-store.js';
export { KvStore } from './kv-store.js';
export { NodeStats } from './stats.js';
