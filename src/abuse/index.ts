export { createMemorySessionHistory } from './session-history.js';
export type { MemorySessionHistory, SessionHistoryOptions } from './session-history.js';
