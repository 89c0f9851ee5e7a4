import type { Action } from '../domain/action.js';
import type { ClientDecision, OutcomeReceipt, WardenClient } from './client.js';
import { WardenDeniedError } from './errors.js';

/** Which call a wrapped tool makes, as Warden's policies see it. */
export interface GuardTarget {
  /** The scope the calls belong to, such as `acme/payments/agent`. */
  scope: string;
  /** What policies see as `tool.server` (`match.servers`): your name for the group of tools. */
  server: string;
  /** What policies see as `tool.name` (`match.tools`). @default the framework tool's own name */
  name?: string;
  /** Only an `enforcer` token may name an agent, principal or session other than its own (docs/api.md). */
  agent?: Action['agent'];
  principal?: Action['principal'];
  session?: Action['session'];
  context?: Action['context'];
}

/** One guarded call: the tool's input, how to run it, and when to stop waiting. */
export interface GuardedCall<T> {
  target: GuardTarget;
  /** The tool's name in its framework, used when `target.name` is not set. */
  toolName: string;
  input: unknown;
  run: (input: unknown) => Promise<T>;
  /** Whether a result reports its own failure (recorded as `isError`). */
  isError?: (result: T) => boolean;
  signal?: AbortSignal | undefined;
  /** Called with the outcome report's receipt (a report that failed included); the call's result does not wait on this. */
  onReport?: ((receipt: OutcomeReceipt, decision: ClientDecision) => void) | undefined;
}

/**
 * Runs one call through Warden: decide (waiting on an approval when one is required), run the tool
 * only on an allow and only with the arguments Warden returned when it masked some
 * (`redactedArgs`), then report how it ended. Throws `WardenDeniedError` when the call may not run;
 * the tool's own errors are reported and rethrown. When output inspection masked the result, the
 * masked result is returned instead of the tool's.
 *
 * INVARIANT: the tool never sees the original arguments when the decision carries `redactedArgs`.
 */
export async function guardCall<T>(client: WardenClient, call: GuardedCall<T>): Promise<T> {
  const { action, wrapped } = actionOf(call.target, call.toolName, call.input);
  const decision = await client.decideAndWait(action, call.signal ? { signal: call.signal } : {});
  if (decision.effect !== 'allow') throw new WardenDeniedError(decision, decision.sdkCode ?? 'policy');
  const args = decision.redactedArgs ?? action.args;
  const input = wrapped ? args?.input : args;
  const started = performance.now();
  let result: T;
  try {
    result = await call.run(input);
  } catch (err) {
    const receipt = await client.reportOutcome(decision, { outcome: 'failed', error: err instanceof Error ? err.message : String(err), durationMs: performance.now() - started });
    call.onReport?.(receipt, decision);
    throw err;
  }
  const isError = call.isError?.(result);
  const receipt = await client.reportOutcome(decision, { outcome: 'completed', result, durationMs: performance.now() - started, ...(isError !== undefined ? { isError } : {}) });
  call.onReport?.(receipt, decision);
  return receipt.reported && receipt.masked ? (receipt.maskedResult as T) : result;
}

/** The action of one call; an input that is not an object travels as `args.input`. */
export function actionOf(target: GuardTarget, toolName: string, input: unknown): { action: Action; wrapped: boolean } {
  const plain = input !== null && typeof input === 'object' && !Array.isArray(input);
  const args = plain ? (input as Record<string, unknown>) : input === undefined ? undefined : { input };
  return {
    wrapped: !plain && input !== undefined,
    action: {
      kind: 'tool.call',
      scope: target.scope,
      tool: { server: target.server, name: target.name ?? toolName },
      ...(args !== undefined ? { args } : {}),
      ...(target.agent ? { agent: target.agent } : {}),
      ...(target.principal ? { principal: target.principal } : {}),
      ...(target.session ? { session: target.session } : {}),
      ...(target.context ? { context: target.context } : {}),
    },
  };
}
