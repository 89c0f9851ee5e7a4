import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateSigningKey } from '../audit/index.js';
import { WardenError } from '../domain/index.js';

/**
 * Reads the Ed25519 key that signs audit checkpoints, creating it (mode 0600) on first use when
 * `create` is set, so the embedded default works with no setup.
 */
export async function loadSigningKey(file: string, opts: { create: boolean }): Promise<{ key: KeyObject; created: boolean }> {
  let pem: string;
  let created = false;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.create) {
      throw new WardenError('audit.key_invalid', `cannot read the audit signing key \`${file}\``, { help: 'set WARDEN_AUDIT_KEY (or --audit-key) to an Ed25519 private key in PEM; `warden serve` and `warden gateway` create one at the default path on first start', cause: err });
    }
    pem = generateSigningKey().privateKeyPem;
    await mkdir(dirname(file), { recursive: true });
    // `wx`: never overwrite a key another process created a moment ago.
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
      pem = await readFile(file, 'utf8');
    });
    created = true;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new WardenError('audit.key_invalid', `\`${file}\` is not a PEM private key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new WardenError('audit.key_invalid', `\`${file}\` holds a ${key.asymmetricKeyType} key; checkpoints need Ed25519`);
  return { key, created };
}
