import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../domain/index.js';

/** What a checkpoint commits to: a contiguous range of one tenant's chain. */
export interface CheckpointBody {
  tenantId: string;
  fromSeq: number;
  toSeq: number;
  /** RFC 6962 Merkle root over the event hashes `fromSeq..toSeq`. */
  root: string;
  /** The hash of event `toSeq`, which by the chain commits to every event before it too. */
  lastHash: string;
  createdAt: string;
}

/** A checkpoint signed with Ed25519 over the RFC 8785 form of its body. */
export interface SignedCheckpoint extends CheckpointBody {
  keyId: string;
  /** The signer's public key (SPKI PEM), so a third party can check without database access. */
  publicKey: string;
  /** Base64 Ed25519 signature. */
  signature: string;
}

/** A short, stable id for a public key: the first 16 hex digits of sha256 over its DER form. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Signs a checkpoint body. */
export function signCheckpoint(body: CheckpointBody, privateKey: KeyObject): SignedCheckpoint {
  const publicKey = createPublicKey(privateKey);
  const signature = sign(null, Buffer.from(canonicalJson(body)), privateKey).toString('base64');
  return { ...body, keyId: keyIdOf(publicKey), publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), signature };
}

/**
 * Checks a checkpoint's signature. With `trusted` keys the signer must be one of them; without,
 * the embedded key is used, which proves integrity but not who signed.
 */
export function checkCheckpointSignature(cp: SignedCheckpoint, trusted?: ReadonlyMap<string, KeyObject>): string | undefined {
  let key: KeyObject;
  try {
    key = trusted ? trusted.get(cp.keyId)! : createPublicKey(cp.publicKey);
  } catch {
    return `checkpoint ${cp.fromSeq}..${cp.toSeq} carries an unreadable public key`;
  }
  if (!key) return `checkpoint ${cp.fromSeq}..${cp.toSeq} is signed by key \`${cp.keyId}\`, which is not trusted`;
  if (keyIdOf(key) !== cp.keyId) return `checkpoint ${cp.fromSeq}..${cp.toSeq} names key \`${cp.keyId}\` but carries another`;
  const body: CheckpointBody = { tenantId: cp.tenantId, fromSeq: cp.fromSeq, toSeq: cp.toSeq, root: cp.root, lastHash: cp.lastHash, createdAt: cp.createdAt };
  let ok = false;
  try {
    ok = verify(null, Buffer.from(canonicalJson(body)), key, Buffer.from(cp.signature, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? undefined : `checkpoint ${cp.fromSeq}..${cp.toSeq} has a signature that does not match its contents`;
}

/** A fresh Ed25519 key pair (PEM), made on a server's or gateway's first start. */
export function generateSigningKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
