import { DynamicStructuredTool, type StructuredToolInterface } from '@langchain/core/tools';
import type { WardenClient } from '../client.js';
import { WardenDeniedError } from '../errors.js';
import { guardCall, type GuardTarget } from '../guard.js';

/**
 * Wraps a LangChain.js tool (`tool(…)` or any `StructuredTool` from `@langchain/core/tools`) in a
 * tool of the same name, description and schema whose calls pass Warden: the original runs only on
 * an allow, with `redactedArgs` when Warden masked arguments, after waiting for an approval when
 * one is required; its outcome is reported. A refused call answers Warden's refusal as the tool's
 * output, so an agent's model sees it as the tool message.
 * @example
 * const search = wardenLangChainTool(warden, searchTool, { scope: 'acme/research', server: 'research' });
 * await search.invoke({ query: 'warden' });
 */
export function wardenLangChainTool(client: WardenClient, tool: StructuredToolInterface, target: GuardTarget): DynamicStructuredTool {
  return new DynamicStructuredTool({
    name: tool.name,
    description: tool.description,
    schema: tool.schema,
    func: async (input: unknown, runManager, config) => {
      try {
        return await guardCall<unknown>(client, {
          target,
          toolName: tool.name,
          input,
          // The original as a child run, without the outer tool call: it answers its value, not a ToolMessage.
          run: (decided) => tool.invoke(decided as never, { callbacks: runManager?.getChild(), ...(config?.signal ? { signal: config.signal } : {}) }),
          signal: config?.signal,
        });
      } catch (err) {
        if (err instanceof WardenDeniedError) return err.message;
        throw err;
      }
    },
  });
}
