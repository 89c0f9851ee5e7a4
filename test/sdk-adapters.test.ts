import { Agent, Runner, tool as agentsTool, Usage, type Model, type ModelResponse } from '@openai/agents';
import { tool as langchainTool } from '@langchain/core/tools';
import { ToolMessage } from '@langchain/core/messages';
import { generateText, tool as aiTool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWardenClient, type WardenClient } from '../src/sdk/index.js';
import { wardenTool } from '../src/sdk/adapters/ai.js';
import { wardenLangChainTool } from '../src/sdk/adapters/langchain.js';
import { wardenFunctionTool } from '../src/sdk/adapters/openai-agents.js';
import { DSN, startWarden, type RunningWarden } from './support/sdk-warden.js';

// Done-when of issue 16 item 1: each framework adapter, driven through the real framework package,
// against a running Warden: a denied call (the tool never runs, the framework sees the reason), a
// call approved while it waits (the tool runs once, its outcome audited), a redacted call (the tool
// gets the masked arguments only).
let warden: RunningWarden;
let client: WardenClient;
beforeAll(async () => {
  warden = await startWarden();
  client = createWardenClient({ url: warden.url, token: warden.agentToken, retries: 1, timeoutMs: 60_000, approvals: { pollMs: 20, maxPollMs: 100, maxWaitMs: 60_000 } });
}, 120_000);
afterAll(() => warden?.close());

const target = (name: string) => ({ scope: 'acme/app', server: 'app', name });

/** A tool body that records what it was called with. */
function recorder<T>(answer: T) {
  const calls: Record<string, unknown>[] = [];
  return { calls, run: async (input: Record<string, unknown>) => (calls.push(input), answer) };
}

/** The result event of the call an approval released: correlated to the allow that names the request. */
async function completedAfter(requestId: string) {
  const allow = (await warden.events('tool.call.decided')).find((e) => e.decision?.effect === 'allow' && e.decision.approvalRequest?.id === requestId);
  return (await warden.events('tool.call.completed')).find((e) => e.correlationId === allow?.id);
}

describe('Vercel AI SDK (ai@6): wardenTool over tool({ execute })', () => {
  /** A mock model whose one step calls `toolName` with `input`. */
  const callingModel = (toolName: string, input: object) =>
    new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'tool-call', toolCallId: 'call-1', toolName, input: JSON.stringify(input) }],
        finishReason: { unified: 'tool-calls', raw: undefined },
        usage: { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } },
        warnings: [],
      }),
    });
  const guarded = (name: string, rec: ReturnType<typeof recorder>) =>
    wardenTool(client, aiTool({ description: name, inputSchema: z.object({ cmd: z.string().optional(), dsn: z.string().optional(), version: z.string().optional() }), execute: rec.run }), target(name));

  it('denied: execute never runs and the model gets the reason as the tool error', async () => {
    const rec = recorder('ran');
    const r = await generateText({ model: callingModel('shell_run', { cmd: 'id' }), tools: { shell_run: guarded('shell.run', rec) }, prompt: 'list files' });
    expect(rec.calls).toEqual([]);
    const error = r.steps[0]!.content.find((p) => p.type === 'tool-error');
    expect(String((error as { error: unknown }).error)).toMatch(/^WardenDeniedError: Warden denied this call: Shell tools are not for agents\. \(sdk\/no-shell\)$/);
  });

  it('approved while waiting: execute runs once, its result goes to the model and to the audit log', async () => {
    const rec = recorder({ deployed: '2.0.0' });
    const run = generateText({ model: callingModel('deploy_release', { version: '2.0.0' }), tools: { deploy_release: guarded('deploy.release', rec) }, prompt: 'ship it' });
    const approved = await warden.approveNext('deploy.release');
    const r = await run;
    expect(rec.calls).toEqual([{ version: '2.0.0' }]);
    expect(r.steps[0]!.content.find((p) => p.type === 'tool-result')).toMatchObject({ output: { deployed: '2.0.0' } });
    expect(await completedAfter(approved.id)).toMatchObject({ outcome: 'success', target: { name: 'deploy.release' } });
  });

  it('redacted: execute gets the masked arguments only', async () => {
    const rec = recorder('rows');
    await generateText({ model: callingModel('db_query', { dsn: DSN }), tools: { db_query: guarded('db.query', rec) }, prompt: 'query' });
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.dsn).toMatch(/^\[REDACTED:secret\]/);
    expect(JSON.stringify(rec.calls)).not.toContain('hunter2secret');
  });
});

describe('OpenAI Agents SDK (@openai/agents 0.14): wardenFunctionTool over tool(), run by a Runner', () => {
  /** A model (the package's `Model` interface) that calls `name` once, then answers. */
  function callingModel(name: string, args: object): Model & { inputs: unknown[] } {
    const inputs: unknown[] = [];
    return {
      inputs,
      async getResponse(request): Promise<ModelResponse> {
        inputs.push(request.input);
        if (inputs.length === 1) return { usage: new Usage(), output: [{ type: 'function_call', callId: 'call-1', name, arguments: JSON.stringify(args), status: 'completed' }] };
        return { usage: new Usage(), output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'done' }] }] };
      },
      // eslint-disable-next-line require-yield -- the runner of these tests never streams
      async *getStreamedResponse() {
        throw new Error('not streamed in these tests');
      },
    };
  }
  async function runAgent(name: string, policyName: string, args: object, rec: ReturnType<typeof recorder>) {
    const t = agentsTool({ name, description: name, parameters: z.object({ cmd: z.string().nullable(), dsn: z.string().nullable(), version: z.string().nullable() }), execute: async (input) => rec.run(input) });
    const agent = new Agent({ name: 'ops', instructions: 'help', model: callingModel(name, args), tools: [wardenFunctionTool(client, t, target(policyName))] });
    const result = await new Runner({ tracingDisabled: true }).run(agent, 'go');
    const output = result.newItems.find((i) => i.type === 'tool_call_output_item') as { output: unknown } | undefined;
    return { result, output: output?.output };
  }

  it('denied: execute never runs and the model is given the reason as the tool output', async () => {
    const rec = recorder('ran');
    const { output, result } = await runAgent('shell_run', 'shell.run', { cmd: 'id', dsn: null, version: null }, rec);
    expect(rec.calls).toEqual([]);
    expect(output).toBe('Warden denied this call: Shell tools are not for agents. (sdk/no-shell)');
    expect(result.finalOutput).toBe('done');
  });

  it('approved while waiting: execute runs once and its output reaches the model', async () => {
    const rec = recorder('deployed 2.1.0');
    const run = runAgent('deploy_release', 'deploy.release', { cmd: null, dsn: null, version: '2.1.0' }, rec);
    const approved = await warden.approveNext('deploy.release');
    const { output } = await run;
    expect(rec.calls).toEqual([{ cmd: null, dsn: null, version: '2.1.0' }]);
    expect(output).toBe('deployed 2.1.0');
    expect(await completedAfter(approved.id)).toMatchObject({ outcome: 'success' });
  });

  it('redacted: execute gets the masked arguments only', async () => {
    const rec = recorder('rows');
    await runAgent('db_query', 'db.query', { cmd: null, dsn: DSN, version: null }, rec);
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.dsn).toMatch(/^\[REDACTED:secret\]/);
    expect(JSON.stringify(rec.calls)).not.toContain('hunter2secret');
  });
});

describe('LangChain.js (@langchain/core 1.4): wardenLangChainTool over tool()', () => {
  const guarded = (name: string, policyName: string, rec: ReturnType<typeof recorder>) =>
    wardenLangChainTool(client, langchainTool(async (input: Record<string, unknown>) => rec.run(input), { name, description: name, schema: z.object({ cmd: z.string().optional(), dsn: z.string().optional(), version: z.string().optional() }) }), target(policyName));

  it('denied: the tool never runs and the tool message carries the reason', async () => {
    const rec = recorder('ran');
    const msg = await guarded('shell_run', 'shell.run', rec).invoke({ type: 'tool_call', id: 'call-1', name: 'shell_run', args: { cmd: 'id' } });
    expect(rec.calls).toEqual([]);
    expect(msg).toBeInstanceOf(ToolMessage);
    expect((msg as ToolMessage).content).toBe('Warden denied this call: Shell tools are not for agents. (sdk/no-shell)');
  });

  it('approved while waiting: the tool runs once and answers', async () => {
    const rec = recorder('deployed 2.2.0');
    const run = guarded('deploy_release', 'deploy.release', rec).invoke({ version: '2.2.0' });
    const approved = await warden.approveNext('deploy.release');
    expect(await run).toBe('deployed 2.2.0');
    expect(rec.calls).toEqual([{ version: '2.2.0' }]);
    expect(await completedAfter(approved.id)).toMatchObject({ outcome: 'success' });
  });

  it('redacted: the tool gets the masked arguments only', async () => {
    const rec = recorder('rows');
    await guarded('db_query', 'db.query', rec).invoke({ dsn: DSN });
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.dsn).toMatch(/^\[REDACTED:secret\]/);
    expect(JSON.stringify(rec.calls)).not.toContain('hunter2secret');
  });
});
