/** How long `waitFor` polls, and what it says when the condition never holds. */
export interface WaitForOptions {
  /** @default 5000 */
  timeoutMs?: number;
  /** @default 10 */
  intervalMs?: number;
  /** Names the awaited condition in the timeout error. */
  what?: string;
}

/**
 * Polls `probe` until it returns a truthy value and resolves with that value; rejects once
 * `timeoutMs` has passed. For a signal the code under test exposes only as state (a watcher's
 * status, a file): await the code's own promise or event instead whenever there is one.
 * @example
 * await waitFor(() => watcher.status().version !== before, { what: 'the watcher to reload' });
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    const value = await probe();
    if (value) return value as Exclude<T, undefined | null | false | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs ?? 5000} ms waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 10));
  }
}
