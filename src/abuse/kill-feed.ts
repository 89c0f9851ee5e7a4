import type { AgentKill, Mitigation } from '../domain/index.js';
import type { MitigationStore } from './ports.js';

/** A kill as gateways apply it. */
export type Kill = AgentKill;

/** Kills made in this process at once, and everyone's from the store (what a gateway's HTTP listener takes). */
export interface KillFeed {
  since(at: Date): Promise<Kill[]>;
  subscribe(listener: (kill: Kill) => void): () => void;
  /** Announces a kill just stored by this process. */
  announce(m: Mitigation): void;
}

function killOf(m: Mitigation): Kill {
  return { id: m.id, tenantId: m.tenantId, agentId: m.entity.id, at: new Date(m.createdAt), reason: m.reason, by: m.source.kind === 'rule' ? `abuse rule ${m.source.rule}` : `analyst ${m.source.principal}` };
}

/** The kill switch's feed over the mitigations store. */
export function createKillFeed(store: Pick<MitigationStore, 'killsSince'>): KillFeed {
  const listeners = new Set<(kill: Kill) => void>();
  return {
    async since(at) {
      return (await store.killsSince(at)).filter((m) => m.entity.kind === 'agent').map(killOf);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    announce(m) {
      const k = killOf(m);
      for (const l of listeners) l(k);
    },
  };
}
