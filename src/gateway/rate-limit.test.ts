import { describe, expect, it } from 'vitest';
import { compileRateLimits, createMemoryRateLimiter } from './rate-limit.js';

describe('compileRateLimits', () => {
  it('folds case on tool and prompt names (an upstream chooses them) but not on resource URIs', async () => {
    const limits = compileRateLimits([{ tools: ['*delete_all'], prompts: ['*.Secret*'], resources: ['file:///Logs/*'], limit: 1, windowMs: 60_000, per: 'agent' }], createMemoryRateLimiter(() => 0));
    // One counter per agent across what the rule matches: a second matching request is over the limit.
    expect(await limits.check('a', 'tool.call', 'files.Delete_All')).toBeUndefined();
    expect(await limits.check('a', 'tool.call', 'files.DELETE_ALL')).toMatchObject({ refusal: 'rate_limited' });
    expect(await limits.check('b', 'prompt.get', 'docs.secret-notes')).toBeUndefined();
    expect(await limits.check('b', 'prompt.get', 'docs.SECRET-notes')).toMatchObject({ refusal: 'rate_limited' });
    // URIs compare exactly: `file:///logs/…` is not under `file:///Logs/*`, so it is never counted.
    expect(await limits.check('c', 'resource.read', 'file:///logs/a')).toBeUndefined();
    expect(await limits.check('c', 'resource.read', 'file:///logs/b')).toBeUndefined();
    expect(await limits.check('d', 'resource.read', 'file:///Logs/a')).toBeUndefined();
    expect(await limits.check('d', 'resource.read', 'file:///Logs/b')).toMatchObject({ refusal: 'rate_limited' });
  });
});
