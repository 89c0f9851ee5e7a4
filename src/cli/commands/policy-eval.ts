import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { readPolicyFiles } from '../../config/policy-files.js';
import { ActionSchema, compileValidator, formatIssues, type Decision } from '../../domain/index.js';
import { formatDiagnostic, loadPolicySources } from '../../policy/index.js';
import { allowedHostsOption, policyLoadOptions } from '../allowed-hosts.js';
import { formatOf } from './format.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { offlineDecide } from '../offline-decide.js';
import { nowOption } from '../now-option.js';

const checkAction = compileValidator(ActionSchema);

function human(d: Decision): string {
  const lines = [`effect: ${d.effect}`];
  for (const r of d.reasons) lines.push(`  decided by ${r.policy}/${r.rule} (v${r.version}, ${r.effect})${r.message ? `: ${r.message}` : ''}`);
  for (const w of d.warnings) lines.push(`  warning: ${w.policy}/${w.rule} (warn mode) would make it ${w.wouldBe}${w.message ? `: ${w.message}` : ''}`);
  for (const e of d.errors ?? []) lines.push(`  error in ${e.policy}/${e.rule}: ${e.message} (treated as ${e.treatedAs})`);
  for (const a of d.approval ?? []) lines.push(`  approval: ${a.count} of ${JSON.stringify(a.approvers)}${a.timeout ? ` within ${a.timeout}` : ''}`);
  for (const f of d.findings) lines.push(`  finding: ${f.category}/${f.type} (score ${f.score}, ${f.severity})${f.path ? ` at ${f.path}` : ''}: ${JSON.stringify(f.evidence)}`);
  for (const o of d.obligations) lines.push(`  obligation: ${o.type}${o.params ? ` ${JSON.stringify(o.params)}` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** `warden policy eval --action FILE <paths...>`: decide one action offline, as the server's checkpoint would. */
export function registerPolicyEval(policy: Command, io: CliIo, done: (code: number) => void): void {
  policy
    .command('eval')
    .description('decide one action against policy files, offline, with the checkpoint the server runs (registry facts are what the action carries; nothing is audited)')
    .argument('<paths...>', 'policy files or directories')
    .requiredOption('--action <file>', 'a JSON file holding the Action (`-` for stdin)')
    .option('--format <format>', 'human, or json: the Decision in the wire shape of POST /api/v1/decide (without `auditEventId`)')
    .option('--json', 'the same as `--format json`')
    .option('--fail-on-deny', 'exit 1 when the effect is deny or require_approval')
    .option('--now <time>', 'the time used when the action carries no context.time (RFC 3339)')
    .option('--allow-host <host...>', 'hosts (and subdomains) the server lets images, links and uploads reach, as `warden serve --allow-host` (default: WARDEN_ALLOW_HOSTS)')
    .action(async (paths: string[], opts: { action: string; format?: string; json?: boolean; failOnDeny?: boolean; now?: string; allowHost?: string[] }) => {
      const format = formatOf(opts);
      const now = nowOption(opts.now);
      const allowedHosts = allowedHostsOption(opts.allowHost, io);
      let text: string;
      try {
        text = opts.action === '-' ? await readStdin() : await readFile(opts.action, 'utf8');
      } catch {
        throw new CliError(`cannot read action file \`${opts.action}\``);
      }
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        throw new CliError(`action file \`${opts.action}\` is not valid JSON: ${(err as Error).message}`);
      }
      const action = checkAction(raw);
      if (!action.ok) throw new CliError(`the action is invalid: ${formatIssues(action.issues)}`);
      const files = await readPolicyFiles(paths, io.cwd);
      const compiled = loadPolicySources(files.sources, policyLoadOptions(io));
      if (!compiled.set) {
        for (const d of compiled.diagnostics.filter((x) => x.severity === 'error')) io.stderr(`${formatDiagnostic(d)}\n`);
        throw new CliError('the policies do not compile');
      }
      const decision = await offlineDecide(compiled.set, { allowedHosts, ...(now ? { now } : {}) })(action.value);
      io.stdout(format === 'json' ? `${JSON.stringify(decision, null, 2)}\n` : human(decision));
      done(opts.failOnDeny && decision.effect !== 'allow' ? EXIT.findings : EXIT.ok);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
