import type { Command } from 'commander';
import { readPolicyFiles } from '../../config/policy-files.js';
import { formatDiagnostic, lintJunit, lintSarif, loadPolicySources, parsePolicyTestSource } from '../../policy/index.js';
import { policyLoadOptions } from '../allowed-hosts.js';
import { EXIT, type CliIo } from '../io.js';
import { WARDEN_VERSION } from '../version.js';
import { formatOf, withFormatOption } from './format.js';

/** Report formats for CI: SARIF for code scanning (GitHub), JUnit XML for test reports (GitLab, Jenkins). */
const CI_FORMATS = ['sarif', 'junit'] as const;

/** `warden policy lint <paths...>`: parse, type-check and lint; exit 1 on any error. */
export function registerPolicyLint(policy: Command, io: CliIo, done: (code: number) => void): void {
  withFormatOption(policy.command('lint').description('check policy files for syntax, schema, CEL and lint errors').argument('<paths...>', 'policy files or directories'), CI_FORMATS)
    .action(async (paths: string[], opts: { format: string; json?: boolean }) => {
      const format = formatOf(opts, CI_FORMATS);
      const files = await readPolicyFiles(paths, io.cwd);
      const r = loadPolicySources(files.sources, policyLoadOptions(io));
      const diagnostics = [...r.diagnostics, ...files.tests.flatMap((t) => parsePolicyTestSource(t.file, t.text).diagnostics)];
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = diagnostics.length - errors;
      if (format === 'json') {
        io.stdout(`${JSON.stringify({ files: files.sources.length + files.tests.length, errors, warnings, diagnostics }, null, 2)}\n`);
      } else if (format === 'sarif') {
        io.stdout(`${JSON.stringify(lintSarif(diagnostics, { version: WARDEN_VERSION }), null, 2)}\n`);
      } else if (format === 'junit') {
        io.stdout(lintJunit(diagnostics, [...files.sources, ...files.tests].map((f) => f.file)));
      } else {
        for (const d of diagnostics) io.stdout(`${formatDiagnostic(d)}\n`);
        const rules = r.set?.rules.length ?? 0;
        io.stdout(`${files.sources.length} policy file(s), ${r.set?.policies.length ?? 0} policies, ${rules} active rules: ${errors} error(s), ${warnings} warning(s)\n`);
      }
      done(errors > 0 ? EXIT.findings : EXIT.ok);
    });
}
