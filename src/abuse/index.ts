export { createMemorySessionHistory } from './session-history.js';
export type { MemorySessionHistory, SessionHistoryOptions } from './session-history.js';
export { connectRedisSessionHistory } from './redis-session-history.js';
export type { RedisSessionHistoryOptions } from './redis-session-history.js';
export { bucketsOf, createMemoryVelocity } from './velocity.js';
export type { MemoryVelocityOptions, VelocityBuckets, VelocityKind, VelocityRead, VelocityStore } from './velocity.js';
export { connectRedisVelocity } from './redis-velocity.js';
export type { RedisVelocityOptions } from './redis-velocity.js';
