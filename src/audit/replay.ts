import { newAuditEvent, type AuditEvent, type AuditSink, type Clock } from '../domain/index.js';
import type { DeliveryStore } from './ports.js';

/** What a replay needs: the cursor store, and the writer its own event goes to. */
export interface ReplayDeps {
  delivery: Pick<DeliveryStore, 'replay'>;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
}

/**
 * Sets one destination's cursor in one tenant's chain back (or forward) to `fromSeq`, and records
 * who did it in that chain (`audit.stream.replayed`): a replay sends the tenant's events out again,
 * so it is a change like any other. The API's replay route and `warden audit replay` both call this.
 */
export async function replayDestination(deps: ReplayDeps, replay: { destination: string; tenantId: string; fromSeq: number }, by: AuditEvent['actor']): Promise<void> {
  await deps.delivery.replay(replay.destination, replay.tenantId, replay.fromSeq);
  await deps.audit.append([
    newAuditEvent(
      {
        tenantId: replay.tenantId,
        // Tenant-wide, as the chain it replays is: filed at the tenant's root scope.
        scope: replay.tenantId,
        category: 'audit_system',
        type: 'audit.stream.replayed',
        severity: 'low',
        outcome: 'success',
        actor: by,
        target: { kind: 'audit', name: replay.destination },
        details: { destination: replay.destination, fromSeq: replay.fromSeq },
      },
      deps.clock.now(),
    ),
  ]);
}
