import type { Agent, AuditCategory, AuditEvent, AuditOutcome, Effect, Tool } from '../domain/index.js';

/** What the checkpoint needs to know about tools and agents; the registry's word beats the caller's. */
export interface RegistryPort {
  /** The registered tool, or undefined when the registry does not know it. */
  findTool(server: string, name: string): Promise<Tool | undefined>;
  /** The registered agent, or undefined when the registry does not know it. */
  findAgent(id: string): Promise<Agent | undefined>;
}

/** Where decided events go; resolves only once the events are durable. */
export interface AuditSink {
  append(events: readonly AuditEvent[]): Promise<void>;
}

/** Filters for reading the audit log; all optional but `limit`. */
export interface AuditQuery {
  /** Inclusive lower bound (ISO 8601). */
  from?: string;
  /** Exclusive upper bound (ISO 8601). */
  to?: string;
  agent?: string;
  /** The principal the agent acted for. */
  principal?: string;
  tool?: string;
  effect?: Effect;
  /** That scope and everything below it. */
  scope?: string;
  category?: AuditCategory;
  type?: string;
  outcome?: AuditOutcome;
  tenant?: string;
  /** Free text, matched case-insensitively anywhere in the event. */
  text?: string;
  /** Page size, 1..1000. */
  limit: number;
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor?: string;
}

/** One page of audit events, newest first. */
export interface AuditPage {
  events: AuditEvent[];
  nextCursor: string | null;
}

/** Reads the audit log. */
export interface AuditReader {
  list(query: AuditQuery): Promise<AuditPage>;
}

/** Time source, injected so tests control it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
