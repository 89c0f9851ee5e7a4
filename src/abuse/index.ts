export { createMemorySessionHistory } from './session-history.js';
export type { SessionHistoryOptions } from './session-history.js';
