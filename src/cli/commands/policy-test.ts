import type { Command } from 'commander';
import { offlinePolicyView } from '../../checkpoint/index.js';
import { readPolicyFiles } from '../../config/policy-files.js';
import type { Action, Decision } from '../../domain/index.js';
import { formatDiagnostic, loadPolicySources, locateRules, matchingRules, parsePolicyTestSource, ruleCoverage, runPolicyTests, type CoveredRule, type PolicySet, type PolicyTestResult } from '../../policy/index.js';
import { allowedHostsOption, policyLoadOptions } from '../allowed-hosts.js';
import { formatOf } from './format.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { nowOption } from '../now-option.js';
import { offlineDecide } from '../offline-decide.js';

/**
 * The rules that matched a case, found by running the policies again over the action as the offline
 * checkpoint's policies saw it (`offlinePolicyView`; arguments unmasked), at the time and with the
 * findings its decision reports. A decision without `policySetVersion` was not made by the policies
 * (a registry refusal): none of them ran.
 */
function matchingOf(set: PolicySet): (action: Action, decision: Decision) => string[] {
  return (action, decision) => {
    if (decision.policySetVersion === undefined) return [];
    const now = decision.context ? new Date(decision.context.time) : undefined;
    return matchingRules(set, offlinePolicyView(action), { ...(now ? { now } : {}), findings: decision.findings }).map((r) => `${r.policy}/${r.name}`);
  };
}

const where = (r: CoveredRule) => (r.span ? ` (${r.span.file}:${r.span.line}:${r.span.col})` : '');

/** `warden policy test <dir>`: run the `*.test.yaml` cases beside the policies, through the offline checkpoint. */
export function registerPolicyTest(policy: Command, io: CliIo, done: (code: number) => void): void {
  policy
    .command('test')
    .description('run the *.test.yaml cases against the policies beside them, with the checkpoint the server runs')
    .argument('<paths...>', 'directories (or files) holding policies and their *.test.yaml files')
    .option('--format <format>', 'human or json')
    .option('--json', 'the same as `--format json`')
    .option('--now <time>', 'the time used for cases without context.time (RFC 3339)')
    .option('--coverage', 'also list the rules no case exercised (matched), and those matched but never deciding')
    .option('--allow-host <host...>', 'hosts (and subdomains) the server lets images, links and uploads reach, as `warden serve --allow-host` (default: WARDEN_ALLOW_HOSTS)')
    .action(async (paths: string[], opts: { format?: string; json?: boolean; now?: string; coverage?: boolean; allowHost?: string[] }) => {
      const format = formatOf(opts);
      // One time for the whole run, so cases without context.time agree with each other.
      const now = nowOption(opts.now) ?? new Date();
      const allowedHosts = allowedHostsOption(opts.allowHost, io);
      const files = await readPolicyFiles(paths, io.cwd);
      const compiled = loadPolicySources(files.sources, policyLoadOptions(io));
      if (!compiled.set) {
        for (const d of compiled.diagnostics.filter((x) => x.severity === 'error')) io.stderr(`${formatDiagnostic(d)}\n`);
        throw new CliError('the policies do not compile, so no test ran', EXIT.usage);
      }
      if (files.tests.length === 0) throw new CliError(`no *.test.yaml files under ${paths.map((p) => `\`${p}\``).join(', ')}`);
      const results: (PolicyTestResult & { file: string })[] = [];
      let broken = 0;
      const decide = offlineDecide(compiled.set, { allowedHosts, now });
      const matching = matchingOf(compiled.set);
      for (const t of files.tests) {
        const parsed = parsePolicyTestSource(t.file, t.text);
        if (!parsed.file) {
          for (const d of parsed.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
          broken++;
          continue;
        }
        for (const r of await runPolicyTests(parsed.file, decide, { matching })) results.push({ ...r, file: t.file });
      }
      const passed = results.filter((r) => r.passed).length;
      const failed = results.length - passed + broken;
      const coverage = opts.coverage ? ruleCoverage(compiled.set, results, locateRules(files.sources)) : undefined;
      if (format === 'json') {
        const shown = results.map(({ decision, ...r }) => ({ ...r, effect: decision?.effect, reasons: decision?.reasons }));
        io.stdout(`${JSON.stringify({ passed, failed, results: shown, ...(coverage ? { coverage } : {}) }, null, 2)}\n`);
      } else {
        for (const r of results) {
          io.stdout(r.passed ? `PASS ${r.name}\n` : `FAIL ${r.name}\n     ${r.span.file}:${r.span.line}:${r.span.col}: ${r.failure}\n`);
        }
        io.stdout(`${passed} passed, ${failed} failed\n`);
        if (coverage) {
          io.stdout(`coverage: ${coverage.exercised} of ${coverage.total} rules exercised\n`);
          for (const r of coverage.notExercised) io.stdout(`  not exercised: ${r.id}${where(r)}\n`);
          for (const r of coverage.neverDecided) io.stdout(`  matched, never decided: ${r.id}${r.mode === 'warn' ? ' (warn mode)' : ''}${where(r)}\n`);
        }
      }
      done(failed > 0 ? EXIT.findings : EXIT.ok);
    });
}
