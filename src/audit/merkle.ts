import { createHash } from 'node:crypto';

function h(...parts: Buffer[]): Buffer {
  const x = createHash('sha256');
  for (const p of parts) x.update(p);
  return x.digest();
}

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/**
 * Streaming RFC 6962 Merkle tree hash: feed leaves in order, read the root at any time, with
 * O(log n) memory (a stack of perfect subtrees), so a range of millions of events costs no memory.
 */
export class MerkleBuilder {
  private readonly stack: { size: number; hash: Buffer }[] = [];
  private count = 0;

  /** Adds one leaf (the event's hash, as `sha256:` hex). */
  add(eventHash: string): void {
    let node = { size: 1, hash: h(LEAF, Buffer.from(eventHash.slice(7), 'hex')) };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: h(NODE, left.hash, node.hash) };
    }
    this.stack.push(node);
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
    for (let i = this.stack.length - 2; i >= 0; i--) acc = h(NODE, this.stack[i]!.hash, acc);
    return `sha256:${acc.toString('hex')}`;
  }
}

/** The root over a list of leaves (tests and small ranges). */
export function merkleRoot(eventHashes: readonly string[]): string {
  const b = new MerkleBuilder();
  for (const x of eventHashes) b.add(x);
  return b.root();
}
