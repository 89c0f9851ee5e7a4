import type { Migration } from './migration.js';

/**
 * Tokens found by the hash of their text. A gateway file's static agent token is imported as a token
 * row that keeps only its SHA-256 (the text carries no `wdn_<id>` to look it up by), so
 * authentication looks such a text up by hash. Unique: one text is one token, so a lookup can never
 * be ambiguous (two random `wdn_` tokens never share a hash).
 */
export const tokenHash: Migration = {
  name: '008-token-hash',
  sql: /* sql */ `
CREATE UNIQUE INDEX api_tokens_hash_idx ON api_tokens (hash);
`,
};
