import { describe, expect, it } from 'vitest';
import { isWardenError } from '../domain/index.js';
import { childEnv, Upstream } from './upstream.js';

describe('childEnv', () => {
  it('leaves the SDK default alone when neither a base nor the spec names an environment', () => {
    expect(childEnv(undefined, undefined)).toBeUndefined();
  });

  it('lays the spec’s own variables over the injected base and drops unset ones', () => {
    expect(childEnv({ PATH: '/bin', HOME: '/h', UNSET: undefined }, { HOME: '/srv', TOKEN: 't' })).toEqual({ PATH: '/bin', HOME: '/srv', TOKEN: 't' });
    expect(childEnv(undefined, { TOKEN: 't' })).toEqual({ TOKEN: 't' });
  });
});

describe('Upstream errors', () => {
  it('refuses a request after close with a coded error', async () => {
    const u = new Upstream({ name: 'gone', command: 'true' });
    await u.close();
    const err: unknown = await u.client().catch((e: unknown) => e);
    expect(isWardenError(err) && err.code).toBe('gateway.upstream_closed');
  });

  it('reports a spec with no way to connect as invalid configuration', async () => {
    const err: unknown = await new Upstream({ name: 'nowhere' }).client().catch((e: unknown) => e);
    expect(isWardenError(err) && err.code).toBe('config.invalid');
  });
});
