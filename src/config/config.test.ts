import { describe, expect, it } from 'vitest';
import { loadConfig, parseAllowedHosts, parseAuditCapture, parseCheckAllowHosts } from './config.js';

describe('audit capture setting', () => {
  it('is off unless asked, and the flag wins over the environment', () => {
    expect(loadConfig({ policies: ['p'] }, {}).auditCapture).toEqual({ args: false, results: false });
    expect(loadConfig({ policies: ['p'] }, { WARDEN_AUDIT_CAPTURE: 'results' }).auditCapture).toEqual({ args: false, results: true });
    expect(loadConfig({ policies: ['p'], auditCapture: 'args' }, { WARDEN_AUDIT_CAPTURE: 'results' }).auditCapture).toEqual({ args: true, results: false });
    expect(parseAuditCapture(' args , results ')).toEqual({ args: true, results: true });
    expect(parseAuditCapture('none')).toEqual({ args: false, results: false });
  });

  it('rejects an unknown body kind with a stable code instead of capturing nothing silently', () => {
    expect(() => parseAuditCapture('args,bodies')).toThrow(expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining('`bodies`') }));
  });
});

describe('exfiltration allow-list setting', () => {
  it('is empty unless given; the flag wins over the comma-separated environment variable', () => {
    expect(loadConfig({ policies: ['p'] }, {}).allowedHosts).toEqual([]);
    expect(loadConfig({ policies: ['p'] }, { WARDEN_ALLOW_HOSTS: 'Docs.Example.com, cdn.example.net,' }).allowedHosts).toEqual(['docs.example.com', 'cdn.example.net']);
    expect(loadConfig({ policies: ['p'], allowHost: ['intranet.acme'] }, { WARDEN_ALLOW_HOSTS: 'docs.example.com' }).allowedHosts).toEqual(['intranet.acme']);
    expect(parseAllowedHosts(['a.example', 'A.example', '10.0.0.1'])).toEqual(['a.example', '10.0.0.1']);
  });

  it('rejects a URL, a port or a wildcard instead of allowing nothing (or everything) silently', () => {
    for (const bad of ['https://docs.example.com', 'docs.example.com:443', '*.example.com', 'example.com/path', '-bad.example'])
      expect(() => parseAllowedHosts([bad]), bad).toThrow(expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining(`\`${bad.toLowerCase()}\``) }));
  });

  it('rejects a top-level domain, a public suffix or a numeric name, which would work as a wildcard', () => {
    for (const bad of ['com', 'COM', 'intranet', '0', 'co.uk', 'com.au', 'github.io', 'herokuapp.com', 'vercel.app', 'netlify.app', 'pages.dev', 'web.app', 'firebaseapp.com', 'azurewebsites.net', 'cloudfront.net', 's3.amazonaws.com', 'blogspot.com', '1.2.3', '10.0.0.256', 'example.123'])
      expect(() => parseAllowedHosts(bad), bad).toThrow(expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining(`\`${bad.toLowerCase()}\``) }));
    expect(parseAllowedHosts('localhost, 127.0.0.1, me.github.io, bbc.co.uk, 1password.com')).toEqual(['localhost', '127.0.0.1', 'me.github.io', 'bbc.co.uk', '1password.com']);
  });
});

describe('status check settings', () => {
  it('reads the secret and the allow-list from the environment only, hosts exact and canonical', () => {
    const none = loadConfig({ policies: ['p'] }, {});
    expect(none.checkSecret).toBeUndefined();
    expect(none.checkAllowHosts).toEqual([]);
    const c = loadConfig({ policies: ['p'] }, { WARDEN_CHECK_SECRET: 's3cret', WARDEN_CHECK_ALLOW_HOSTS: 'Checks.Internal, 10.0.0.5, ::1,' });
    expect(c.checkSecret).toBe('s3cret');
    expect(c.checkAllowHosts).toEqual(['checks.internal', '10.0.0.5', '[::1]']);
  });

  it('refuses what is not a bare host', () => {
    for (const bad of ['https://checks.internal', 'checks.internal:8443', 'checks.internal/x', 'a b'])
      expect(() => parseCheckAllowHosts(bad), bad).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});

describe('approval notification settings', () => {
  it('take the webhooks file and the public URL from flags over the environment; the URL loses its trailing slash', () => {
    expect(loadConfig({ policies: ['p'] }, {})).not.toHaveProperty('publicUrl');
    const c = loadConfig({ policies: ['p'] }, { WARDEN_APPROVAL_WEBHOOKS: 'hooks.yaml', WARDEN_PUBLIC_URL: 'https://warden.example.com/' });
    expect(c).toMatchObject({ approvalWebhooksFile: 'hooks.yaml', publicUrl: 'https://warden.example.com' });
    expect(loadConfig({ policies: ['p'], publicUrl: 'https://w.example.com/base' }, { WARDEN_PUBLIC_URL: 'https://other.example.com' }).publicUrl).toBe('https://w.example.com/base');
  });

  it('refuse a public URL that is not http(s), or carries credentials, a query or a fragment', () => {
    for (const bad of ['ftp://w.example.com', 'https://u:p@w.example.com', 'https://w.example.com/?a=1', 'https://w.example.com/#x', 'w.example.com'])
      expect(() => loadConfig({ policies: ['p'], publicUrl: bad }, {}), bad).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});

describe('session history store', () => {
  it('takes a Redis URL from --redis over WARDEN_REDIS_URL, and refuses what is not redis://', () => {
    expect(loadConfig({ policies: ['p'] }, {})).not.toHaveProperty('sessionRedisUrl');
    expect(loadConfig({ policies: ['p'] }, { WARDEN_REDIS_URL: 'redis://10.0.0.9:6379' }).sessionRedisUrl).toBe('redis://10.0.0.9:6379');
    expect(loadConfig({ policies: ['p'], redis: 'rediss://r.example.com' }, { WARDEN_REDIS_URL: 'redis://x' }).sessionRedisUrl).toBe('rediss://r.example.com');
    expect(() => loadConfig({ policies: ['p'], redis: 'http://r.example.com' }, {})).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});
