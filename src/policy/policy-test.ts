import { ActionSchema, compileValidator, formatIssues, type Action, type Decision, type SourceSpan } from '../domain/index.js';
import type { PolicyTestFile } from './document.js';
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
 * Runs the cases of one test file, in order, and judges each decision against its expectation.
 * `decide` is the decision procedure under test: the CLI passes the offline checkpoint, so a case
 * sees what the server would decide (registry refusals, scan findings, obligations included).
 */
export async function runPolicyTests(file: Located<PolicyTestFile>, decide: (action: Action) => Promise<Decision>): Promise<PolicyTestResult[]> {
  const results: PolicyTestResult[] = [];
  for (const [i, t] of file.value.tests.entries()) results.push(await runCase(file, t, i, decide));
  return results;
}

/** One case: an invalid action fails it, otherwise the decision is judged against `expect`. */
async function runCase(file: Located<PolicyTestFile>, t: PolicyTestFile['tests'][number], i: number, decide: (action: Action) => Promise<Decision>): Promise<PolicyTestResult> {
  const span = file.loc.at(['tests', i, 'name']);
  const parsed = checkAction(t.action);
  if (!parsed.ok) {
    return { name: t.name, span: file.loc.at(['tests', i, 'action']), passed: false, failure: `the action is invalid: ${formatIssues(parsed.issues)}`, decision: undefined };
  }
  const decision = await decide(parsed.value);
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
}
