import cliProgress from 'cli-progress';
import type { Core } from '../main/core.js';
import { CliError, EXIT, printableLines, terminalOf, type CliIo } from './io.js';
import { remoteOrDirect, type DirectFlags } from './remote-or-direct.js';

/** A `--from`/`--to` value as an ISO time, or a usage error naming the flag. */
export function instant(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) throw new CliError(`${flag} must be an RFC 3339 time such as 2026-12-01T00:00:00Z`, EXIT.usage);
  return new Date(t).toISOString();
}

/** `--samples`: a whole number from 0 to 100. */
export function samplesOf(v: string | undefined): number {
  const n = Number(v ?? '5');
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new CliError('--samples must be a whole number from 0 to 100', EXIT.usage);
  return n;
}

/**
 * Runs a replay through `WARDEN_URL` (its route's JSON lines: progress, then the report) or on the
 * database, with a progress bar on a terminal; both sides answer the same report.
 */
export async function replayWithProgress<T>(io: CliIo, flags: DirectFlags, run: { path: string; body: unknown; noun: string; direct: (core: Core, progress: (read: number, total: number) => void) => Promise<T> }): Promise<T> {
  const bar = io.stderrIsTTY ? new cliProgress.SingleBar({ stream: terminalOf(io), format: `replaying [{bar}] {percentage}% | {value}/{total} ${run.noun} | {eta_formatted} left`, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  let started = false;
  const progress = (read: number, total: number) => {
    if (!bar) return;
    if (!started) {
      bar.start(total, 0);
      started = true;
    }
    bar.update(Math.min(read, total));
  };
  try {
    return await remoteOrDirect(
      io,
      flags,
      async (r) => {
        let got: T | undefined;
        await r.lines(run.path, run.body, (line) => {
          const l = line as { progress?: { read: number; total: number }; report?: T; error?: { code: string; message: string } };
          if (l.progress) progress(l.progress.read, l.progress.total);
          if (l.report) got = l.report;
          if (l.error) throw new CliError(printableLines(`[${l.error.code}] ${l.error.message}`), EXIT.runtime);
        });
        if (!got) throw new CliError('the server ended the replay without a report', EXIT.runtime);
        return got;
      },
      (core) => run.direct(core, progress),
    );
  } finally {
    bar?.stop();
  }
}
