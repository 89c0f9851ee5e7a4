import { createRng } from '../support/rng.js';
import { generateActions } from './generate-actions.js';
import { generatePolicySet } from './generate-policies.js';
import { buildOrg, type Org } from './org.js';
import type { SyntheticAction, SyntheticPolicySet } from './model.js';

/** The org, one generated set and the actions sampled against it. */
export interface Workload {
  org: Org;
  set: SyntheticPolicySet;
  actions: SyntheticAction[];
}

/**
 * Generates the workload of one set size, deterministically: the same (rules, seed, samples) gives
 * the same set and actions in every process, which is what lets two workers be compared.
 */
export function generateWorkload(rules: number, seed: number, samples: number): Workload {
  const org = buildOrg();
  const set = generatePolicySet(createRng(seed * 7919 + rules), org, rules);
  const actions = generateActions(createRng(seed * 7919 + rules + 1), org, set, samples);
  return { org, set, actions };
}
