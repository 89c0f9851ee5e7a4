import { redactValue } from '../../detect/index.js';
import type { Action, Finding, Obligation } from '../../domain/index.js';
import { mandatedFindings, resolveScan } from '../../policy/index.js';
import { buildDetectionEvent, type CallerInfo } from '../audit-events.js';
import { capFindings, redactionOf, scrubEvidence, sensitiveOf } from '../evidence.js';
import type { PassDeps } from '../pass.js';
import { sessionKeyOf } from './registry.js';
import { policySetFor } from '../ports.js';

/** What output inspection returns: the value to hand on (redacted where mandated) and what was seen. */
export interface InspectResult {
  value: unknown;
  findings: Finding[];
  obligations: Obligation[];
}

/** The output pass's input: a call's result, after the enforcement point forwarded the action. */
export interface OutputPass {
  readonly action: Action;
  readonly value: unknown;
  readonly caller: CallerInfo | undefined;
}

/** A stage of the output pass. */
export interface OutputStage<N extends string = string> {
  readonly name: N;
  run(pass: OutputPass, deps: PassDeps): Promise<InspectResult>;
}

/**
 * inspect: where the scope's scan section says `on: [output]`, scans a call's result, scrubs the
 * evidence, masks the categories the section redacts and audits what it found. It may not decide
 * or block: what to do with a finding is the enforcement point's call.
 */
export const inspect: OutputStage<'inspect'> = {
  name: 'inspect',
  async run({ action, value, caller }, deps) {
    const set = policySetFor(deps.policies, caller?.tenantId);
    const mandate = resolveScan(set.scans, action.scope);
    if (!mandate?.output || !deps.detectors) return { value, findings: [], obligations: [] };
    const found = mandatedFindings(mandate, await deps.detectors.scanValue(value, 'tool_result', 'result'));
    if (found.length === 0) return { value, findings: [], obligations: [] };
    // Every span found is masked; the caller and the audit event see a bounded list.
    const { hits, obligation } = redactionOf(mandate, found);
    const findings = scrubEvidence(capFindings(found, 'result'), value, 'result', sensitiveOf(found));
    const out = obligation ? redactValue(value, [...hits], 'result') : value;
    await deps.audit?.append([buildDetectionEvent(action, findings, { time: deps.clock.now(), source: 'output', ...(caller ? { caller } : {}) })]);
    // What came back joins the session's history: a secret read now decides the session's next calls.
    const key = deps.sessions && set.readsSession ? sessionKeyOf({ caller, action }) : undefined;
    const target = action.tool ? { server: action.tool.server, name: action.tool.name } : { server: action.resource?.server ?? '', name: action.resource?.uri ?? '' };
    if (key) await deps.sessions!.addOutputFindings(key, target, found.map((f) => ({ category: f.category, type: f.type, score: f.score, source: 'output' as const })));
    return { value: out, findings, obligations: obligation ? [obligation] : [] };
  },
};
