import { runCli } from '../../src/cli/program.js';

/** Runs the CLI in-process and captures what it printed. */
export async function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; stderrIsTTY?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    stderrIsTTY: opts.stderrIsTTY ?? false,
    untilStopped: () => Promise.resolve(),
  });
  return { code, stdout, stderr };
}
