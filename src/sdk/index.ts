// The TypeScript SDK: Warden's enforcement point inside agent code. Any new export added here becomes
// public API (`warden/sdk`); named exports only. It imports nothing of the server: only `fetch`.
// Types come from domain's files, not its barrel, so the SDK's declarations name only the wire shapes (test/sdk-build.test.ts).
export { createWardenClient } from './client.js';
export type { CallOutcome, ClientDecision, OutcomeReceipt, WardenClient, WardenClientOptions } from './client.js';
export { WardenDeniedError, refusalMessage } from './errors.js';
export type { SdkErrorCode } from './errors.js';
export { guardCall } from './guard.js';
export type { GuardTarget, GuardedCall } from './guard.js';
export type { Action } from '../domain/action.js';
export type { Decision, Effect, Reason } from '../domain/decision.js';
export type { Finding } from '../domain/finding.js';
