import type { SessionHistoryPort, SessionKey } from '../checkpoint/index.js';
import type { SessionStep, SessionView } from '../domain/index.js';

/** Bounds of the in-memory session history. */
export interface SessionHistoryOptions {
  /** Steps kept per session, newest kept. @default 64 */
  maxSteps?: number;
  /** Sessions kept; the least recently used is forgotten first. @default 10000 */
  maxSessions?: number;
  /** A session untouched this long is forgotten. @default 3600000 (1 h) */
  idleMs?: number;
  now?: () => number;
}

/** The in-memory history: the port, answered synchronously, and how many sessions it holds. */
export interface MemorySessionHistory extends SessionHistoryPort {
  view(key: SessionKey): SessionView;
  record(key: SessionKey, step: SessionStep): void;
  addOutputFindings(key: SessionKey, tool: { server: string; name: string }, findings: SessionStep['findings']): void;
  size(): number;
}

interface Entry {
  steps: SessionStep[];
  touched: number;
}

/**
 * Session histories in this process's memory: bounded per session and in sessions (least recently
 * used first out, idle ones dropped), so a flood of sessions costs a fixed amount. One process keeps
 * its own sessions; replicas that share sessions need the Redis option (not built yet).
 */
export function createMemorySessionHistory(opts: SessionHistoryOptions = {}): MemorySessionHistory {
  const maxSteps = opts.maxSteps ?? 64;
  const maxSessions = opts.maxSessions ?? 10_000;
  const idleMs = opts.idleMs ?? 3_600_000;
  const now = opts.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const sessions = new Map<string, Entry>();
  const keyOf = (k: SessionKey) => `${k.tenantId}\n${k.agentId}\n${k.sessionId}`;

  const touch = (k: SessionKey, create: boolean): Entry | undefined => {
    const key = keyOf(k);
    let e = sessions.get(key);
    const t = now();
    if (e && t - e.touched > idleMs) {
      sessions.delete(key);
      e = undefined;
    }
    if (!e) {
      if (!create) return undefined;
      e = { steps: [], touched: t };
    } else sessions.delete(key);
    e.touched = t;
    sessions.set(key, e);
    while (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value!);
    return e;
  };

  return {
    view(k): SessionView {
      const e = touch(k, false);
      return { id: k.sessionId, history: e ? e.steps.slice() : [], labels: [] };
    },
    record(k, step) {
      const e = touch(k, true)!;
      e.steps.push(step);
      if (e.steps.length > maxSteps) e.steps.splice(0, e.steps.length - maxSteps);
    },
    addOutputFindings(k, tool, findings) {
      if (findings.length === 0) return;
      const e = touch(k, false);
      if (!e) return;
      for (let i = e.steps.length - 1; i >= 0; i--) {
        const s = e.steps[i]!;
        if (s.tool.server === tool.server && s.tool.name === tool.name) {
          e.steps[i] = { ...s, findings: [...s.findings, ...findings] };
          return;
        }
      }
    },
    size: () => sessions.size,
  };
}
