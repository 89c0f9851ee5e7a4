export { buildApp } from './app.js';
export type { AppDeps } from './app.js';
export { STATUS_OF } from './errors.js';
export type { WireError } from './errors.js';
export type { ReadinessCheck } from './rest/health.js';
