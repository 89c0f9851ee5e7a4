import type { FunctionTool, ToolInputParameters } from '@openai/agents';
import type { WardenClient } from '../client.js';
import { WardenDeniedError } from '../errors.js';
import { guardCall, type GuardTarget } from '../guard.js';

/**
 * Wraps an OpenAI Agents SDK function tool (`tool({ … })` from `@openai/agents`) so that every call
 * the runner makes passes Warden. The wrapper sits in `invoke`, where the runner calls the tool:
 * the tool's own `invoke` (its parsing, validation and `execute`) runs only on an allow, with
 * `redactedArgs` when Warden masked arguments, after waiting for an approval when one is required;
 * its outcome is reported. A refused call returns Warden's refusal as the tool's output, which the
 * model sees. The tool's own `needsApproval` (your application's human in the loop) stays as it is:
 * Warden's approvals are answered in Warden, by the rule's approvers, while the call waits.
 * @example
 * const agent = new Agent({ name: 'ops', tools: [wardenFunctionTool(warden, deployTool, { scope: 'acme/ops', server: 'ops' })] });
 */
export function wardenFunctionTool<C, P extends ToolInputParameters, R>(client: WardenClient, tool: FunctionTool<C, P, R>, target: GuardTarget): FunctionTool<C, P, R> {
  const invoke: FunctionTool<C, P, R>['invoke'] = async (runContext, input, details) => {
    let args: unknown;
    try {
      args = input.trim() === '' ? {} : JSON.parse(input);
    } catch {
      return `Warden refused this call: its arguments are not JSON, so they cannot be checked.`;
    }
    try {
      return await guardCall<string | R>(client, {
        target,
        toolName: tool.name,
        input: args,
        run: (decided) => tool.invoke(runContext, JSON.stringify(decided ?? {}), details),
        signal: details?.signal,
      });
    } catch (err) {
      if (err instanceof WardenDeniedError) return err.message;
      throw err;
    }
  };
  return { ...tool, invoke };
}
