import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { parseCorsOrigins, parsePublicHosts, parseSwitch } from './http-settings.js';

describe('HTTP surface settings', () => {
  it('are closed unless given: no TLS, no public name, no CORS origin, no proxy', () => {
    const c = loadConfig({ policies: ['p'] }, {});
    expect(c).toMatchObject({ publicHosts: [], corsOrigins: [], behindProxy: false });
    expect(c.tlsCertFile).toBeUndefined();
    expect(c.tlsKeyFile).toBeUndefined();
  });

  it('take flags over the environment, lists comma-separated in the environment', () => {
    const env = { WARDEN_PUBLIC_HOSTS: 'a.example, B.example.', WARDEN_CORS_ORIGINS: 'https://console.example.com', WARDEN_BEHIND_PROXY: '1', WARDEN_TLS_CERT: 'c.pem', WARDEN_TLS_KEY: 'k.pem' };
    expect(loadConfig({ policies: ['p'] }, env)).toMatchObject({ publicHosts: ['a.example', 'b.example'], corsOrigins: ['https://console.example.com'], behindProxy: true, tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem' });
    expect(loadConfig({ policies: ['p'], publicHost: ['c.example'], corsOrigin: ['http://localhost:5173'], tlsCert: 'c2.pem', tlsKey: 'k2.pem' }, env)).toMatchObject({
      publicHosts: ['c.example'],
      corsOrigins: ['http://localhost:5173'],
      tlsCertFile: 'c2.pem',
      tlsKeyFile: 'k2.pem',
    });
    expect(loadConfig({ policies: ['p'] }, { WARDEN_BEHIND_PROXY: 'false' }).behindProxy).toBe(false);
  });

  it('refuse a certificate without its key, and the reverse', () => {
    expect(() => loadConfig({ policies: ['p'], tlsCert: 'c.pem' }, {})).toThrow(expect.objectContaining({ code: 'config.invalid', message: '--tls-cert is given without --tls-key' }));
    expect(() => loadConfig({ policies: ['p'] }, { WARDEN_TLS_KEY: 'k.pem' })).toThrow(expect.objectContaining({ code: 'config.invalid', message: '--tls-key is given without --tls-cert' }));
  });

  it('keep public hosts canonical and refuse a URL, a port or a bad address', () => {
    expect(parsePublicHosts(['Warden.Example.com', '10.0.0.5', '::1', '[2001:db8::5]', 'warden.example.com.'])).toEqual(['warden.example.com', '10.0.0.5', '[::1]', '[2001:db8::5]']);
    expect(parsePublicHosts('*')).toEqual(['*']);
    for (const bad of ['https://warden.example.com', 'warden.example.com:443', 'warden.example.com/api', '*.example.com', '10.0.0.256', 'a..b'])
      expect(() => parsePublicHosts([bad]), bad).toThrow(expect.objectContaining({ code: 'config.invalid', message: `public host \`${bad}\` is not a host name` }));
  });

  it('keep CORS origins in the form browsers send, and refuse a path, a wildcard or another scheme', () => {
    expect(parseCorsOrigins(['HTTPS://Console.Example.com/', 'http://localhost:5173', 'https://a.example:443'])).toEqual(['https://console.example.com', 'http://localhost:5173', 'https://a.example']);
    for (const bad of ['*', 'null', 'console.example.com', 'https://console.example.com/app', 'https://*.example.com', 'ftp://a.example', 'https://u:p@a.example', 'https://a.example?x=1'])
      expect(() => parseCorsOrigins([bad]), bad).toThrow(expect.objectContaining({ code: 'config.invalid', message: `CORS origin \`${bad}\` is not an origin` }));
  });

  it('read an on/off variable strictly', () => {
    expect([parseSwitch('X', 'yes'), parseSwitch('X', 'ON'), parseSwitch('X', '0'), parseSwitch('X', ''), parseSwitch('X', undefined)]).toEqual([true, true, false, undefined, undefined]);
    expect(() => parseSwitch('WARDEN_BEHIND_PROXY', 'maybe')).toThrow(expect.objectContaining({ code: 'config.invalid', message: 'WARDEN_BEHIND_PROXY `maybe` is neither on nor off' }));
  });
});
