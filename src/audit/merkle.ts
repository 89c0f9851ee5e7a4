import { createHash, hash as oneShotHash } from 'node:crypto';

function h(...parts: Buffer[]): Buffer {
  const x = createHash('sha256');
  for (const p of parts) x.update(p);
  return x.digest();
}

// One-shot hashing of a reused buffer (Node 20.12+): a verify of millions of events hashes twice per event here.
const sha256 = typeof oneShotHash === 'function' ? (b: Buffer) => oneShotHash('sha256', b, 'buffer') as unknown as Buffer : (b: Buffer) => h(b);
const leafInput = Buffer.alloc(33);
const nodeInput = Buffer.alloc(65);
nodeInput[0] = 1;

const LEAF = Buffer.from([0]);

function leaf(eventHash: string): Buffer {
  if (eventHash.length === 71 && leafInput.write(eventHash.slice(7), 1, 32, 'hex') === 32) return sha256(leafInput);
  // Not 64 hex digits (only a damaged log has such a hash): hashed exactly as it always was.
  return h(LEAF, Buffer.from(eventHash.slice(7), 'hex'));
}

function node(left: Buffer, right: Buffer): Buffer {
  left.copy(nodeInput, 1);
  right.copy(nodeInput, 33);
  return sha256(nodeInput);
}

/**
 * Streaming RFC 6962 Merkle tree hash: feed leaves in order, read the root at any time, with
 * O(log n) memory (a stack of perfect subtrees), so a range of millions of events costs no memory.
 */
export class MerkleBuilder {
  private readonly stack: { size: number; hash: Buffer }[] = [];
  private count = 0;

  /** Adds one leaf (the event's hash, as `sha256:` hex). */
  add(eventHash: string): void {
    let top = { size: 1, hash: leaf(eventHash) };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === top.size) {
      const left = this.stack.pop()!;
      top = { size: left.size * 2, hash: node(left.hash, top.hash) };
    }
    this.stack.push(top);
    this.count++;
  }

  /** Number of leaves added. */
  get size(): number {
    return this.count;
  }

  /** The root over every leaf added so far, as `sha256:` hex; the empty tree hashes the empty string. */
  root(): string {
    if (this.stack.length === 0) return `sha256:${h().toString('hex')}`;
    let acc = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) acc = node(this.stack[i]!.hash, acc);
    return `sha256:${acc.toString('hex')}`;
  }
}

/** The root over a list of leaves (tests and small ranges). */
export function merkleRoot(eventHashes: readonly string[]): string {
  const b = new MerkleBuilder();
  for (const x of eventHashes) b.add(x);
  return b.root();
}
