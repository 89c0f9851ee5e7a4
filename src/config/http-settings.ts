import { WardenError, canonicalHostName } from '../domain/index.js';

const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

function listOf(values: readonly string[] | string | undefined): string[] {
  return (typeof values === 'string' ? [values] : (values ?? [])).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Parses the names clients reach the API by (`--public-host`, repeatable, or comma-separated
 * WARDEN_PUBLIC_HOSTS) into canonical host names; `*` alone turns the Host check off. Throws `config.invalid`.
 */
export function parsePublicHosts(values: readonly string[] | string | undefined): string[] {
  const out: string[] = [];
  for (const raw of listOf(values)) {
    if (raw === '*') {
      out.push('*');
      continue;
    }
    const name = canonicalHostName(raw);
    const numeric = name !== undefined && /^[0-9]+$/.test(name.split('.').at(-1)!);
    if (name === undefined || (numeric && !IPV4.test(name))) {
      throw new WardenError('config.invalid', `public host \`${raw}\` is not a host name`, {
        help: 'give the name clients put in the URL, without scheme, port or path: `warden.example.com`, `10.0.0.5` or `[2001:db8::5]`; `*` turns the Host check off',
      });
    }
    out.push(name);
  }
  return [...new Set(out)];
}

/**
 * Parses the origins a browser may call the API from (`--cors-origin`, repeatable, or comma-separated
 * WARDEN_CORS_ORIGINS) into the form browsers send in `Origin`: `https://console.example.com`. Throws `config.invalid`.
 */
export function parseCorsOrigins(values: readonly string[] | string | undefined): string[] {
  const out: string[] = [];
  for (const raw of listOf(values)) {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    const bare = url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '' && canonicalHostName(url.hostname) !== undefined;
    if (!url || !bare) {
      throw new WardenError('config.invalid', `CORS origin \`${raw}\` is not an origin`, {
        help: 'give a scheme, a host and an optional port, nothing else: `https://console.example.com` or `http://localhost:5173`; a wildcard is not accepted',
      });
    }
    out.push(url.origin);
  }
  return [...new Set(out)];
}

/** Parses an on/off environment variable (`1`, `true`, `yes`, `0`, `false`, `no`, empty); throws `config.invalid`. */
export function parseSwitch(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new WardenError('config.invalid', `${name} \`${value}\` is neither on nor off`, { help: 'use 1 or 0 (also true/false, yes/no, on/off)' });
}
