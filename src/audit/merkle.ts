import { createHash } from 'node:crypto';
import { sha256Prefixed } from './sha256-short.js';

function h(...parts: Buffer[]): Buffer {
  const x = createHash('sha256');
  for (const p of parts) x.update(p);
  return x.digest();
}

const LEAF = Buffer.from([0]);
const leafInput = Buffer.alloc(32);

/** Writes the RFC 6962 leaf of an event hash (`sha256:` hex) to `out[at, at + 32)`. */
function leafInto(eventHash: string, out: Uint8Array, at: number): void {
  if (eventHash.length === 71 && leafInput.write(eventHash.slice(7), 0, 32, 'hex') === 32) sha256Prefixed(0, leafInput, 0, 32, out, at);
  // Not 64 hex digits (only a damaged log has such a hash): hashed exactly as it always was.
  else out.set(h(LEAF, Buffer.from(eventHash.slice(7), 'hex')), at);
}

/**
 * The RFC 6962 leaf of an event whose hash is `sha256:` and the lower-case hex of `digest`: the
 * leaf `MerkleBuilder.add` makes of that text, without decoding it.
 */
export function leafOfDigest(digest: Uint8Array, out: Uint8Array, at: number): void {
  sha256Prefixed(0, digest, 0, 32, out, at);
}

// Levels of perfect subtrees held at once: a range of up to 2^64 leaves, plus the one being added.
const LEVELS = 65;

/**
 * Streaming RFC 6962 Merkle tree hash: feed leaves in order, read the root at any time, with
 * O(log n) memory (a stack of perfect subtrees), so a range of millions of events costs no memory.
 */
export class MerkleBuilder {
  // The stack's hashes side by side, 32 bytes each: a node's two children are the 64 bytes it hashes.
  private readonly hashes = new Uint8Array(32 * LEVELS);
  private readonly sizes: number[] = [];
  private count = 0;

  /** Adds one leaf (the event's hash, as `sha256:` hex). */
  add(eventHash: string): void {
    leafInto(eventHash, this.hashes, 32 * this.sizes.length);
    this.pushed();
  }

  /** Adds one leaf already hashed (`leafOfDigest`), from `leaf[at, at + 32)`. */
  addLeaf(leaf: Uint8Array, at = 0): void {
    const top = 32 * this.sizes.length;
    for (let i = 0; i < 32; i++) this.hashes[top + i] = leaf[at + i]!;
    this.pushed();
  }

  /** Folds the leaf just written above the stack into it. */
  private pushed(): void {
    const { sizes, hashes } = this;
    let size = 1;
    let n = sizes.length;
    while (n > 0 && sizes[n - 1] === size) {
      // The left child at n - 1, the right at n: their node replaces the left.
      sha256Prefixed(1, hashes, 32 * (n - 1), 64, hashes, 32 * (n - 1));
      sizes.pop();
      size *= 2;
      n--;
    }
    sizes.push(size);
    this.count++;
  }

  /** Number of leaves added. */
  get size(): number {
    return this.count;
  }

  /** The root over every leaf added so far, as `sha256:` hex; the empty tree hashes the empty string. */
  root(): string {
    const n = this.sizes.length;
    if (n === 0) return `sha256:${h().toString('hex')}`;
    const pair = new Uint8Array(64);
    pair.set(this.hashes.subarray(32 * (n - 1), 32 * n), 32);
    for (let i = n - 2; i >= 0; i--) {
      pair.set(this.hashes.subarray(32 * i, 32 * i + 32), 0);
      sha256Prefixed(1, pair, 0, 64, pair, 32);
    }
    return `sha256:${Buffer.from(pair.buffer, 32, 32).toString('hex')}`;
  }
}

/** The root over a list of leaves (tests and small ranges). */
export function merkleRoot(eventHashes: readonly string[]): string {
  const b = new MerkleBuilder();
  for (const x of eventHashes) b.add(x);
  return b.root();
}
