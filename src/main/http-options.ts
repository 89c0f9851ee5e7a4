import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { LOOPBACK_HOSTS } from '../api/index.js';
import type { WardenConfig } from '../config/index.js';
import { WardenError, canonicalHostName } from '../domain/index.js';

/** How `warden serve` listens and which requests its HTTP surface accepts, decided from the config. */
export interface HttpOptions {
  /** The certificate chain and key (PEM) when the API serves HTTPS itself. */
  https?: { key: Buffer; cert: Buffer };
  /** Trust a reverse proxy's `X-Forwarded-*` headers (`--behind-proxy`). */
  trustProxy: boolean;
  /** What the operator should know before the first request: each one is logged at `warn`. */
  warnings: string[];
  /** The names a request's `Host` may give, or `'any'` (`--public-host '*'`). */
  allowedHosts: readonly string[] | 'any';
  /** Origins a browser may call the API from. */
  corsOrigins: readonly string[];
}

type HttpConfig = Pick<WardenConfig, 'host' | 'tlsCertFile' | 'tlsKeyFile' | 'publicHosts' | 'corsOrigins' | 'behindProxy'>;

const WILDCARDS: readonly string[] = ['0.0.0.0', '[::]'];

/** The bind address is reachable from this machine only: 127.0.0.0/8, `::1` (also IPv4-mapped) or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const name = canonicalHostName(host);
  if (name === undefined) return false;
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(name);
}

/** The addresses of this machine's interfaces, as Host names (IPv6 in brackets). */
function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => canonicalHostName(i.address.split('%')[0]!))
    .filter((a): a is string => a !== undefined);
}

/**
 * The names the Host check accepts: the bind address; on loopback, the loopback names; on a wildcard
 * address (`0.0.0.0`, `::`), those and every interface address, since a client may reach any of them.
 * A client typing an IP address is no DNS rebinding risk; a DNS name must be listed with `--public-host`.
 */
function allowedHostsOf(config: HttpConfig, interfaces: () => string[]): readonly string[] | 'any' {
  if (config.publicHosts.includes('*')) return 'any';
  const bind = canonicalHostName(config.host);
  const names = new Set<string>(config.publicHosts);
  if (bind !== undefined && !WILDCARDS.includes(bind)) names.add(bind);
  if (bind === undefined || WILDCARDS.includes(bind)) for (const a of [...LOOPBACK_HOSTS, ...interfaces()]) names.add(a);
  else if (isLoopbackHost(bind)) for (const a of LOOPBACK_HOSTS) names.add(a);
  return [...names];
}

function readPem(what: string, flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `could not be read (${code ?? String(err)})`;
    throw new WardenError('config.invalid', `the TLS ${what} file \`${file}\` ${why}`, { help: `pass ${flag} with the path of a PEM file this user may read`, cause: err });
  }
}

function certificateOf(file: string, pem: Buffer): X509Certificate {
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate block');
    return new X509Certificate(pem);
  } catch (err) {
    throw new WardenError('config.invalid', `the TLS certificate file \`${file}\` is not a PEM certificate`, {
      help: 'it should hold `-----BEGIN CERTIFICATE-----` blocks, the server certificate first; convert a DER file with `openssl x509 -inform der -in cert.der -out cert.pem`',
      cause: err,
    });
  }
}

function privateKeyOf(file: string, pem: Buffer): KeyObject {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem.toString('latin1'))) {
    throw new WardenError('config.invalid', `the TLS key file \`${file}\` is encrypted with a passphrase`, {
      help: 'Warden cannot ask for a passphrase; give it an unencrypted copy readable by its user only: `openssl pkey -in key.pem -out warden-key.pem && chmod 600 warden-key.pem`',
    });
  }
  try {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString('latin1'))) throw new Error('no PEM private key block');
    return createPrivateKey(pem);
  } catch (err) {
    throw new WardenError('config.invalid', `the TLS key file \`${file}\` is not a PEM private key`, {
      help: 'it should hold one `-----BEGIN PRIVATE KEY-----` (or `RSA`/`EC PRIVATE KEY`) block, the key of --tls-cert',
      cause: err,
    });
  }
}

/** The certificate and key, checked to be PEM and to belong together; throws `config.invalid`. */
function tlsOf(certFile: string, keyFile: string, now: Date, warnings: string[]): { key: Buffer; cert: Buffer } {
  const cert = readPem('certificate', '--tls-cert', certFile);
  const key = readPem('key', '--tls-key', keyFile);
  const x509 = certificateOf(certFile, cert);
  if (!x509.checkPrivateKey(privateKeyOf(keyFile, key))) {
    throw new WardenError('config.invalid', `the TLS key \`${keyFile}\` is not the key of the certificate \`${certFile}\``, {
      help: 'pass the private key the certificate was issued for (`openssl x509 -noout -pubkey -in CERT` and `openssl pkey -pubout -in KEY` print the same key)',
    });
  }
  // Not an error: a renewal may be on its way, and clients that pin or ignore expiry still connect.
  const until = new Date(x509.validTo);
  const from = new Date(x509.validFrom);
  if (until.getTime() < now.getTime()) warnings.push(`the TLS certificate \`${certFile}\` expired on ${until.toISOString()}: clients will refuse to connect until it is renewed`);
  else if (from.getTime() > now.getTime()) warnings.push(`the TLS certificate \`${certFile}\` is not valid before ${from.toISOString()}: clients will refuse to connect until then`);
  return { key, cert };
}

/**
 * The TLS, proxy and Host decisions of `warden serve`: reads and checks the certificate files (throws
 * `config.invalid` when one is missing, unreadable, not PEM or the pair does not match), lists the names
 * the Host check accepts, and warns when tokens would cross a network in clear text.
 */
export function httpOptionsOf(config: HttpConfig, opts: { now?: Date; interfaces?: () => string[] } = {}): HttpOptions {
  const warnings: string[] = [];
  const https = config.tlsCertFile && config.tlsKeyFile ? tlsOf(config.tlsCertFile, config.tlsKeyFile, opts.now ?? new Date(), warnings) : undefined;
  if (!isLoopbackHost(config.host) && !https && !config.behindProxy) {
    warnings.push(
      `the API listens on \`${config.host}\`, which other machines can reach, over plain HTTP: bearer tokens and audit data would cross the network in clear text; ` +
        'pass --tls-cert and --tls-key, or put a TLS-terminating reverse proxy in front and pass --behind-proxy, or bind --host 127.0.0.1 (docs/deploy.md)',
    );
  }
  const allowedHosts = allowedHostsOf(config, opts.interfaces ?? interfaceAddresses);
  if (allowedHosts === 'any') {
    warnings.push("the Host check is off (--public-host '*'): a web page can reach the API through DNS rebinding unless a proxy in front refuses unknown names");
  }
  return { ...(https ? { https } : {}), trustProxy: config.behindProxy, warnings, allowedHosts, corsOrigins: config.corsOrigins };
}
