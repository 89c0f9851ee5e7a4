import { createHash } from 'node:crypto';

/**
 * A tenant's policy release: the hash of its active managed versions (name, number and content
 * hash of each), `sha256:`-prefixed; equal releases mean the same active versions. The empty
 * release (no managed policy active) is the hash of nothing.
 */
export function releaseOf(active: readonly { name: string; number: number; hash: string }[]): string {
  const lines = active.map((a) => `${a.name}@${a.number}:${a.hash}`).sort();
  return `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}

/** The content hash of a version: of its YAML bytes exactly as submitted. */
export function sourceHash(source: string): string {
  return `sha256:${createHash('sha256').update(source, 'utf8').digest('hex')}`;
}
