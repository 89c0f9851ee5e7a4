import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { DestinationDocSchema, natsTransport, webhookTransport, type Destination, type DestinationDoc } from '../audit/index.js';
import { WardenError, compileValidator, formatIssues } from '../domain/index.js';

const check = compileValidator(DestinationDocSchema);

/** Parses a YAML file of `kind: AuditDestination` documents; throws `config.invalid` naming the problem. */
export function parseDestinations(file: string, text: string): DestinationDoc[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new WardenError('config.invalid', `\`${file}\` is not a YAML stream`);
  const out: DestinationDoc[] = [];
  for (const [i, d] of docs.entries()) {
    if (d.errors.length > 0) throw new WardenError('config.invalid', `\`${file}\` document ${i + 1}: ${d.errors[0]!.message.split('\n')[0]}`);
    if (d.contents === null) continue;
    const r = check(d.toJS());
    if (!r.ok) throw new WardenError('config.invalid', `\`${file}\` document ${i + 1} is not a valid AuditDestination: ${formatIssues(r.issues)}`);
    const spec = r.value.spec;
    if ((spec.webhook ? 1 : 0) + (spec.nats ? 1 : 0) !== 1) throw new WardenError('config.invalid', `destination \`${r.value.metadata.name}\` must have exactly one of \`webhook\` or \`nats\``);
    if (out.some((x) => x.metadata.name === r.value.metadata.name)) throw new WardenError('config.invalid', `destination \`${r.value.metadata.name}\` is defined twice`);
    out.push(r.value);
  }
  return out;
}

/** Reads the destinations file and builds a transport for each; secrets come from the environment. */
export async function loadDestinations(file: string, env: Readonly<Record<string, string | undefined>>): Promise<Destination[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new WardenError('config.invalid', `cannot read the destinations file \`${file}\``);
  }
  return parseDestinations(file, text).map((doc) => {
    if (doc.spec.webhook) {
      const secret = env[doc.spec.webhook.secretEnv];
      if (!secret) throw new WardenError('config.invalid', `destination \`${doc.metadata.name}\` needs its HMAC secret in \`${doc.spec.webhook.secretEnv}\``);
      return { doc, transport: webhookTransport({ url: doc.spec.webhook.url, secret, ...(doc.spec.webhook.timeoutMs ? { timeoutMs: doc.spec.webhook.timeoutMs } : {}) }) };
    }
    return { doc, transport: natsTransport(doc.spec.nats!) };
  });
}
