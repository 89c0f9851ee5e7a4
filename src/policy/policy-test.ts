import { ActionSchema, compileValidator, formatIssues, type Action, type Decision, type Finding, type SourceSpan } from '../domain/index.js';
import type { PolicySet } from './compiled.js';
import type { PolicyTestFile } from './document.js';
import { decide } from './evaluate.js';
import type { Located } from './parse.js';

/** The outcome of one policy test case. */
export interface PolicyTestResult {
  name: string;
  span: SourceSpan;
  passed: boolean;
  /** Why it failed, one sentence; empty when it passed. */
  failure: string;
  decision: Decision | undefined;
}

const checkAction = compileValidator(ActionSchema);

/**
 * Runs the cases of one test file against a set; pure (the clock and the detectors are inputs).
 * `findingsFor` gives the findings the mandated detectors report, as the server would.
 */
export function runPolicyTests(set: PolicySet, file: Located<PolicyTestFile>, opts: { now: Date; findingsFor?: (action: Action) => Finding[] }): PolicyTestResult[] {
  return file.value.tests.map((t, i) => {
    const span = file.loc.at(['tests', i, 'name']);
    const parsed = checkAction(t.action);
    if (!parsed.ok) {
      return { name: t.name, span: file.loc.at(['tests', i, 'action']), passed: false, failure: `the action is invalid: ${formatIssues(parsed.issues)}`, decision: undefined };
    }
    const decision = decide(set, parsed.value, { now: opts.now, findings: opts.findingsFor?.(parsed.value) ?? [] });
    const problems: string[] = [];
    if (decision.effect !== t.expect.effect) problems.push(`expected effect \`${t.expect.effect}\` but got \`${decision.effect}\``);
    const deciding = decision.reasons.map((r) => `${r.policy}/${r.rule}`);
    if (t.expect.rule !== undefined && !deciding.includes(t.expect.rule)) {
      problems.push(`expected rule \`${t.expect.rule}\` to decide, but ${deciding.length > 0 ? `the deciding rules were ${deciding.map((d) => `\`${d}\``).join(', ')}` : 'no rule decided'}`);
    }
    if (t.expect.warnings !== undefined) {
      const got = decision.warnings.map((w) => `${w.policy}/${w.rule}`).sort();
      const want = [...t.expect.warnings].sort();
      if (got.join(',') !== want.join(',')) problems.push(`expected warnings [${want.join(', ')}] but got [${got.join(', ')}]`);
    }
    return { name: t.name, span, passed: problems.length === 0, failure: problems.join('; '), decision };
  });
}
