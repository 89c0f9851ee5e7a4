import { describe, expect, it } from 'vitest';
import type { SessionStep } from '../domain/index.js';
import { createMemorySessionHistory } from './session-history.js';

const step = (n: number, tool = 't.a'): SessionStep => ({ eventId: `e${n}`, at: new Date(n).toISOString(), kind: 'tool.call', tool: { server: 's', name: tool }, capabilities: [], effect: 'allow', findings: [] });
const key = (sessionId: string, agentId = 'a', tenantId = 'default') => ({ tenantId, agentId, sessionId });

describe('in-memory session history', () => {
  it('keeps the newest steps per session, oldest first', () => {
    const h = createMemorySessionHistory({ maxSteps: 3 });
    for (let i = 1; i <= 5; i++) h.record(key('s'), step(i));
    expect(h.view(key('s')).history.map((s) => s.eventId)).toEqual(['e3', 'e4', 'e5']);
  });

  it('keeps sessions apart by tenant, agent and id: an agent never sees another agent\'s session of the same id', () => {
    const h = createMemorySessionHistory();
    h.record(key('s', 'a'), step(1));
    expect(h.view(key('s', 'b')).history).toEqual([]);
    expect(h.view(key('s', 'a', 'other')).history).toEqual([]);
    expect(h.view(key('s', 'a')).history).toHaveLength(1);
  });

  it('forgets the least recently used session past the cap, and idle sessions', () => {
    let t = 0;
    const h = createMemorySessionHistory({ maxSessions: 2, idleMs: 100, now: () => t });
    h.record(key('s1'), step(1));
    h.record(key('s2'), step(2));
    h.view(key('s1'));
    h.record(key('s3'), step(3));
    expect(h.size()).toBe(2);
    expect(h.view(key('s2')).history).toEqual([]);
    expect(h.view(key('s1')).history).toHaveLength(1);
    t = 500;
    expect(h.view(key('s1')).history).toEqual([]);
  });

  it('adds output findings to the latest step of the same tool, and a view is a copy', () => {
    const h = createMemorySessionHistory();
    h.record(key('s'), step(1, 't.read'));
    h.record(key('s'), step(2, 't.other'));
    const before = h.view(key('s'));
    h.addOutputFindings(key('s'), { server: 's', name: 't.read' }, [{ category: 'secret', type: 'github_token', score: 0.6, source: 'output' }]);
    expect(before.history[0]!.findings).toEqual([]);
    expect(h.view(key('s')).history[0]!.findings).toEqual([{ category: 'secret', type: 'github_token', score: 0.6, source: 'output' }]);
  });
});
