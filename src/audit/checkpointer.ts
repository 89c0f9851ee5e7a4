import type { KeyObject } from 'node:crypto';
import { WardenError, type Clock } from '../domain/index.js';
import { MerkleBuilder } from './merkle.js';
import type { ChainReader, CheckpointStore } from './ports.js';
import { signCheckpoint, type SignedCheckpoint } from './signing.js';

const VERIFY_HELP = 'run `warden audit verify` to see where the log is damaged; nothing is signed over a broken chain';

/** Seals new ranges of a chain with signed checkpoints. */
export interface Checkpointer {
  /** Signs everything committed since the last checkpoint; undefined when nothing is new. */
  seal(tenantId: string): Promise<SignedCheckpoint | undefined>;
  /** Seals every tenant's chain. */
  sealAll(): Promise<SignedCheckpoint[]>;
}

/** Builds the checkpointer over a chain reader, a checkpoint store and an Ed25519 key. */
export function createCheckpointer(deps: { chain: ChainReader; checkpoints: CheckpointStore; key: KeyObject; clock: Clock }): Checkpointer {
  // Two seals of one tenant at once would race for the same range; serialize per process.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
  const seal = (tenantId: string) =>
    serial(async () => {
      const existing = await deps.checkpoints.listCheckpoints(tenantId);
      const fromSeq = (existing.at(-1)?.toSeq ?? 0) + 1;
      const head = await deps.chain.head(tenantId);
      if (head.seq < fromSeq) return undefined;
      const merkle = new MerkleBuilder();
      let lastHash = '';
      let next = fromSeq;
      for await (const e of deps.chain.streamChain(tenantId, { fromSeq, toSeq: head.seq })) {
        // Sign only a contiguous range: a hole means the log is damaged, and verify must say so first.
        if (e.integrity!.seq !== next) throw new WardenError('audit.verify_failed', `cannot checkpoint: event ${next} is missing from the chain of \`${tenantId}\``, { help: VERIFY_HELP });
        merkle.add(e.integrity!.hash);
        lastHash = e.integrity!.hash;
        next++;
      }
      if (next - 1 !== head.seq) throw new WardenError('audit.verify_failed', `cannot checkpoint: the chain of \`${tenantId}\` ends at ${next - 1} but its head says ${head.seq}`, { help: VERIFY_HELP });
      const cp = signCheckpoint({ tenantId, fromSeq, toSeq: head.seq, root: merkle.root(), lastHash, createdAt: deps.clock.now().toISOString() }, deps.key);
      await deps.checkpoints.saveCheckpoint(cp);
      return cp;
    });
  return {
    seal,
    async sealAll() {
      const out: SignedCheckpoint[] = [];
      for (const t of await deps.chain.tenants()) {
        const cp = await seal(t);
        if (cp) out.push(cp);
      }
      return out;
    },
  };
}
