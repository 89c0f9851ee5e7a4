import type { PassStage } from '../pass.js';

/**
 * identify: the enforcement point has already validated the action against the schemas and
 * attributed it (agent, principal, scope) before calling the checkpoint; this stage hands the pass
 * on unchanged. It may not look anything up or change the action: attribution belongs to the edge.
 */
export const identify: PassStage<'identify'> = {
  name: 'identify',
  run: (pass) => pass,
};
