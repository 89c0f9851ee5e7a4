/** The message of anything thrown, on one line, for logs and the text an agent reads. */
export function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}
