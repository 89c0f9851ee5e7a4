import { describe, expect, it } from 'vitest';
import { compileRateLimits, createMemoryRateLimiter } from './rate-limit.js';

describe('compileRateLimits', () => {
  it('folds case on tool and prompt names (an upstream chooses them) but not on resource URIs', async () => {
    const limits = compileRateLimits([{ tools: ['*delete_all'], prompts: ['*.Secret*'], resources: ['file:///Logs/*'], limit: 1, windowMs: 60_000 }], createMemoryRateLimiter(() => 0));
    expect(await limits.check('a', 'tool.call', 'files.Delete_All')).toBeUndefined();
    expect(await limits.check('a', 'tool.call', 'files.DELETE_ALL')).toMatchObject({ refusal: 'rate_limited' });
    expect(await limits.check('a', 'prompt.get', 'docs.secret-notes')).toBeUndefined();
    expect(await limits.check('a', 'prompt.get', 'docs.SECRET-notes')).toMatchObject({ refusal: 'rate_limited' });
    expect(await limits.check('a', 'resource.read', 'file:///logs/a')).toBeUndefined();
    expect(await limits.check('a', 'resource.read', 'file:///logs/b')).toBeUndefined();
  });
});
