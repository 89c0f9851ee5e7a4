import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { parseAllDocuments } from 'yaml';
import { WardenError, compileValidator, formatIssues, type ApprovalWebhook } from '../domain/index.js';

/** One `kind: ApprovalWebhook` document: where new approval requests at a scope are announced. */
export const ApprovalWebhookDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('ApprovalWebhook'),
    metadata: Type.Object(
      {
        name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
        /** Requests at this scope or below it are sent. */
        scope: Type.String({ minLength: 1, maxLength: 512 }),
        /** The tenant whose requests it receives. @default default */
        tenant: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object(
      {
        url: Type.String({ minLength: 1, maxLength: 2048 }),
        /** The environment variable holding the HMAC secret. */
        secretEnv: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
        /** @default slack */
        format: Type.Optional(Type.Union([Type.Literal('slack'), Type.Literal('json')])),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ApprovalWebhookDoc = Static<typeof ApprovalWebhookDocSchema>;

/** A webhook as the core takes it: the document with its secret resolved and its defaults filled in. */
export type ApprovalWebhookConfig = ApprovalWebhook;

const check = compileValidator(ApprovalWebhookDocSchema);

/** Why `url` may not receive notifications, or undefined: http(s) only, and no credentials in it (they would be logged and shown). */
function badUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `uses \`${u.protocol}\`; only http and https are sent to`;
  if (u.username !== '' || u.password !== '') return 'carries credentials; put the receiver\'s secret in `secretEnv` (the body is HMAC-signed) or in the path your receiver gives you';
  return undefined;
}

/** Parses a YAML file of `kind: ApprovalWebhook` documents; throws `config.invalid` naming the problem. */
export function parseApprovalWebhooks(file: string, text: string): ApprovalWebhookDoc[] {
  const out: ApprovalWebhookDoc[] = [];
  for (const [i, d] of parseAllDocuments(text).entries()) {
    if (d.errors.length > 0) throw new WardenError('config.invalid', `\`${file}\` document ${i + 1}: ${d.errors[0]!.message.split('\n')[0]}`);
    if (d.contents === null) continue;
    const r = check(d.toJS());
    if (!r.ok) throw new WardenError('config.invalid', `\`${file}\` document ${i + 1} is not a valid ApprovalWebhook: ${formatIssues(r.issues)}`);
    const why = badUrl(r.value.spec.url);
    if (why) throw new WardenError('config.invalid', `approval webhook \`${r.value.metadata.name}\`: its url ${why}`, { help: 'give an http(s) URL such as https://hooks.slack.com/services/…' });
    if (out.some((x) => x.metadata.name === r.value.metadata.name)) throw new WardenError('config.invalid', `approval webhook \`${r.value.metadata.name}\` is defined twice`);
    out.push(r.value);
  }
  return out;
}

/** Reads the approval webhooks file; secrets come from the environment (`spec.secretEnv`). */
export async function loadApprovalWebhooks(file: string, env: Readonly<Record<string, string | undefined>>): Promise<ApprovalWebhookConfig[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new WardenError('config.invalid', `cannot read the approval webhooks file \`${file}\``);
  }
  return parseApprovalWebhooks(file, text).map((doc) => {
    const secret = env[doc.spec.secretEnv];
    if (!secret) throw new WardenError('config.invalid', `approval webhook \`${doc.metadata.name}\` needs its HMAC secret in \`${doc.spec.secretEnv}\``);
    return { name: doc.metadata.name, tenant: doc.metadata.tenant ?? 'default', scope: doc.metadata.scope, url: doc.spec.url, secret, format: doc.spec.format ?? 'slack' };
  });
}
