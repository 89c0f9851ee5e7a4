import type { PassStage } from '../pass.js';

/**
 * approve: a `require_approval` decision is returned as is, with its approval requirements, until
 * the approvals workflow exists. It may not change the effect or the reasons evaluate gave.
 */
export const approve: PassStage<'approve'> = {
  name: 'approve',
  run: (pass) => pass,
};
