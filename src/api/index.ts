export { buildApp } from './app.js';
export type { AppDeps } from './app.js';
export { STATUS_OF } from './errors.js';
export type { WireError } from './errors.js';
export type { ReadinessCheck } from './rest/health.js';
export { LOOPBACK_HOSTS, hardenHttp } from './hardening.js';
export type { HardeningOptions } from './hardening.js';
export { createAuthFailureLimiter, rateLimitedError } from '../identity/index.js';
export type { AuthFailureLimiter, AuthFailureLimiterOptions } from '../identity/index.js';
