import type { ReadinessCheck } from '../api/rest/health.js';
import type { Core } from './core.js';

/**
 * The readiness checks of a core: the database answers and takes writes, and the policy set in
 * force. `/readyz` of `warden serve`, of the gateway's port and of the metrics port run these.
 */
export function coreReadiness(core: Core, tenantId = 'default'): Record<string, ReadinessCheck> {
  return {
    database: async () => {
      await core.ping();
      return { ok: true, detail: `${core.database.dialect}, writable` };
    },
    // A broken edit on disk does not make the process unready: the last good set stays in force.
    // `version` is the hash of the files in force, so an operator can compare it with the checkout.
    policies: async () => {
      const s = core.policies.status(tenantId);
      return {
        ok: true,
        detail: s.lastError ? `serving ${s.version}; the files on disk fail to load: ${s.lastError.messages[0]}` : `serving ${s.version}`,
        version: s.version,
        loadedAt: s.loadedAt,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      };
    },
  };
}
