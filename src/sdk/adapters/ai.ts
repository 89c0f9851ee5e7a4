import type { Tool, ToolExecutionOptions } from 'ai';
import type { WardenClient } from '../client.js';
import { guardCall, type GuardTarget } from '../guard.js';

/**
 * Wraps a Vercel AI SDK tool (`tool({ … })` from `ai`) so that every call passes Warden: the
 * `execute` runs only on an allow, with `redactedArgs` when Warden masked arguments, after an
 * approval when one is required, and its outcome is reported to the audit log. A refused call
 * throws `WardenDeniedError`; the AI SDK hands its message to the model as the tool's error.
 * @example
 * const tools = { 'files.read': wardenTool(warden, tool({ inputSchema, execute }), { scope: 'acme/app', server: 'app', name: 'files.read' }) };
 */
export function wardenTool<I, O>(client: WardenClient, tool: Tool<I, O>, target: GuardTarget & { name: string }): Tool<I, O> {
  const execute = tool.execute;
  if (execute === undefined) throw new TypeError(`tool \`${target.name}\` has no \`execute\`: there is nothing for Warden to guard`);
  const guarded = (input: I, options: ToolExecutionOptions) =>
    guardCall<O>(client, {
      target,
      toolName: target.name,
      input,
      // A streaming `execute` (an async iterable) is awaited as one value; its parts are not inspected.
      run: async (args) => (await execute(args as I, options)) as O,
      signal: options.abortSignal,
    });
  return { ...tool, execute: guarded } as Tool<I, O>;
}
