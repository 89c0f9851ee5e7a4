import { describe, expect, it } from 'vitest';
import { newAuditEvent, type AuditEvent } from '../src/domain/index.js';
import { createResultBatcher } from '../src/gateway/index.js';

const event = (type: string): AuditEvent => newAuditEvent({ scope: 'acme', category: 'tool_call', type, outcome: 'success', actor: { type: 'agent', id: 'a' } });

/** A sink that records each append (one transaction each) and fails appends holding a `bad` event. */
function recordingSink() {
  const appends: string[][] = [];
  return {
    appends,
    async append(events: readonly AuditEvent[]) {
      await new Promise((r) => setTimeout(r, 1));
      if (events.some((e) => e.type === 'bad')) throw new Error('cannot commit');
      appends.push(events.map((e) => e.type));
    },
  };
}

describe('result batcher', () => {
  it('appends a decision at once when no result waits', async () => {
    const sink = recordingSink();
    const b = createResultBatcher(sink);
    await b.decisions.append([event('d1')]);
    expect(sink.appends).toEqual([['d1']]);
  });

  it('writes held results with the next decision, in one append, results first', async () => {
    const sink = recordingSink();
    const b = createResultBatcher(sink, { maxDelayMs: 1000 });
    const r1 = b.results.append([event('r1')]);
    const r2 = b.results.append([event('r2')]);
    expect(sink.appends).toEqual([]);
    await b.decisions.append([event('d2')]);
    await Promise.all([r1, r2]);
    expect(sink.appends).toEqual([['r1', 'r2', 'd2']]);
  });

  it('writes held results alone after maxDelayMs, and on flush', async () => {
    const sink = recordingSink();
    const b = createResultBatcher(sink, { maxDelayMs: 5 });
    await b.results.append([event('r1')]);
    expect(sink.appends).toEqual([['r1']]);
    const late = createResultBatcher(sink, { maxDelayMs: 60_000 });
    const r2 = late.results.append([event('r2')]);
    await late.flush();
    await r2;
    expect(sink.appends).toEqual([['r1'], ['r2']]);
  });

  it('never lets a bad result event refuse a decision', async () => {
    const sink = recordingSink();
    const b = createResultBatcher(sink, { maxDelayMs: 1000 });
    const bad = b.results.append([event('bad')]).catch((err: unknown) => err);
    await b.decisions.append([event('d1')]);
    expect(await bad).toMatchObject({ message: 'cannot commit' });
    expect(sink.appends).toEqual([['d1']]);
  });

  it('fails a decision whose own commit fails', async () => {
    const sink = recordingSink();
    const b = createResultBatcher(sink, { maxDelayMs: 1000 });
    const r1 = b.results.append([event('r1')]);
    await expect(b.decisions.append([event('bad')])).rejects.toThrow('cannot commit');
    await r1;
    expect(sink.appends).toEqual([['r1']]);
  });
});
