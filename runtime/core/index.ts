export * from './messages.js';
export * from './effects.js';
export * from './profiles.js';
export * from './timing.js';
export { Node, type NodeOptions } from './node.js';
export type { Member } from './member.js';
export { KvStore } from './kv-store.js';
export { NodeStats } from './stats.js';
