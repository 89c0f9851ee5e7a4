import { ActionSchema, compileValidator, formatIssues, type Action, type Decision, type Reason, type SourceSpan } from '../domain/index.js';
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
  /** The rules that decided, as `policy/rule` (the decision's reasons); empty when the action was invalid. */
  decidedBy: string[];
  /** The rules that matched, as `policy/rule`, when the runner was told how to find them. */
  matched?: string[];
}

/** How to run the cases besides deciding. */
export interface PolicyTestOptions {
  /** The rules (`policy/rule`) that matched an action, given the decision it got: for coverage and clearer failures. */
  matching?: (action: Action, decision: Decision) => readonly string[];
}

const checkAction = compileValidator(ActionSchema);

/**
 * Runs the cases of one test file, in order, and judges each decision against its expectation.
 * `decide` is the decision procedure under test: the CLI passes the offline checkpoint, so a case
 * sees what the server would decide (registry refusals, scan findings, obligations included).
 */
export async function runPolicyTests(file: Located<PolicyTestFile>, decide: (action: Action) => Promise<Decision>, opts: PolicyTestOptions = {}): Promise<PolicyTestResult[]> {
  const results: PolicyTestResult[] = [];
  for (const [i, t] of file.value.tests.entries()) results.push(await runCase(file, t, i, decide, opts));
  return results;
}

const ruleId = (r: Reason) => `${r.policy}/${r.rule}`;

/**
 * The deciders as a failure names them. A policy's rule carries its mode; the reasons Warden gives
 * itself (a scope's default effect, the built-in deny, a registry refusal) carry none, and for those
 * the message is what says why, so it is added.
 */
function describeDeciders(reasons: readonly Reason[]): string {
  if (reasons.length === 0) return 'no rule';
  return reasons.map((r) => (r.mode === undefined && r.message ? `\`${ruleId(r)}\` (${r.message})` : `\`${ruleId(r)}\``)).join(', ');
}

/** One case: an invalid action fails it, otherwise the decision is judged against `expect`. */
async function runCase(file: Located<PolicyTestFile>, t: PolicyTestFile['tests'][number], i: number, decide: (action: Action) => Promise<Decision>, opts: PolicyTestOptions): Promise<PolicyTestResult> {
  const span = file.loc.at(['tests', i, 'name']);
  const parsed = checkAction(t.action);
  if (!parsed.ok) {
    return { name: t.name, span: file.loc.at(['tests', i, 'action']), passed: false, failure: `the action is invalid: ${formatIssues(parsed.issues)}`, decision: undefined, decidedBy: [] };
  }
  const decision = await decide(parsed.value);
  const matched = opts.matching ? [...opts.matching(parsed.value, decision)] : undefined;
  const deciding = decision.reasons.map(ruleId);
  const problems: string[] = [];
  const wrongEffect = decision.effect !== t.expect.effect;
  if (wrongEffect) problems.push(`expected effect \`${t.expect.effect}\` but got \`${decision.effect}\` (decided by ${describeDeciders(decision.reasons)})`);
  if (t.expect.rule !== undefined && !deciding.includes(t.expect.rule)) {
    // Whether the expected rule matched at all tells a wrong `match` or condition from one outvoted.
    const why = matched === undefined ? '' : matched.includes(t.expect.rule) ? ' (it matched, but did not decide)' : ' (it did not match)';
    problems.push(wrongEffect ? `expected rule \`${t.expect.rule}\` to decide${why}` : `expected rule \`${t.expect.rule}\` to decide${why}, but ${describeDeciders(decision.reasons)} decided`);
  }
  if (t.expect.warnings !== undefined) {
    const got = decision.warnings.map(ruleId).sort();
    const want = [...t.expect.warnings].sort();
    if (got.join(',') !== want.join(',')) problems.push(`expected warnings [${want.join(', ')}] but got [${got.join(', ')}]`);
  }
  return { name: t.name, span, passed: problems.length === 0, failure: problems.join('; '), decision, decidedBy: deciding, ...(matched ? { matched } : {}) };
}
