// The TypeScript SDK: Warden's enforcement point inside agent code. Any new export added here becomes
// public API (`warden/sdk`); named exports only. It imports nothing of the server: only `fetch`.
export { createWardenClient } from './client.js';
export type { CallOutcome, ClientDecision, OutcomeReceipt, WardenClient, WardenClientOptions } from './client.js';
export { WardenDeniedError, refusalMessage } from './errors.js';
export type { SdkErrorCode } from './errors.js';
export { guardCall } from './guard.js';
export type { GuardTarget, GuardedCall } from './guard.js';
export type { Action, Decision, Effect, Finding, Reason } from '../domain/index.js';
