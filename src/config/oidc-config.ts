import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { ScopePathSchema, WardenError, compileValidator, formatIssues } from '../domain/index.js';
import { OIDC_ALGORITHMS, RoleSchema, TENANT_ID_PATTERN, oidcConfigProblems, type OidcConfig } from '../identity/index.js';

const ClaimPath = Type.String({ minLength: 1, maxLength: 256, description: 'a claim name, or a dotted path such as `realm_access.roles`' });
const Url = Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://', description: 'an http(s) URL' });

/** A `kind: OidcProvider` document: the OIDC issuer Warden trusts for people, and how its claims map to tenant and roles. */
export const OidcConfigSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('OidcProvider'),
    metadata: Type.Optional(Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64 }) }, { additionalProperties: false })),
    spec: Type.Object(
      {
        /** Exactly as tokens carry it in `iss`. */
        issuer: Url,
        /** `aud` must hold one of these. */
        audience: Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 20 })]),
        /** Without it, the `jwks_uri` of the issuer's discovery document. */
        jwksUri: Type.Optional(Url),
        /** @default 60 */
        clockSkewSec: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
        /** A subset of the asymmetric algorithms; all of them by default. */
        algorithms: Type.Optional(Type.Array(Type.Union(OIDC_ALGORITHMS.map((a) => Type.Literal(a))), { minItems: 1 })),
        tenant: Type.Union([
          Type.Object({ claim: ClaimPath }, { additionalProperties: false }),
          Type.Object({ value: Type.String({ pattern: TENANT_ID_PATTERN, description: 'a tenant id' }) }, { additionalProperties: false }),
        ]),
        roles: Type.Array(
          Type.Object(
            {
              claim: ClaimPath,
              value: Type.String({ minLength: 1, maxLength: 512 }),
              grants: Type.Array(Type.Object({ role: RoleSchema, scope: Type.Optional(ScopePathSchema) }, { additionalProperties: false }), { minItems: 1, maxItems: 50 }),
            },
            { additionalProperties: false },
          ),
          { minItems: 1, maxItems: 500 },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type OidcConfigDoc = Static<typeof OidcConfigSchema>;

const check = compileValidator(OidcConfigSchema);

/**
 * The OIDC configuration in `text` (YAML, or JSON, which is YAML too) read from `file`.
 * @throws WardenError `config.invalid` naming the file and what is wrong.
 */
export function parseOidcConfig(file: string, text: string): OidcConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new WardenError('config.invalid', `${file}: ${doc.errors[0]!.message.split('\n')[0]}`);
  const r = check(doc.toJS());
  if (!r.ok) throw new WardenError('config.invalid', `${file}: not a valid OidcProvider document: ${formatIssues(r.issues)}`, { help: 'see "OIDC for people" in docs/api.md' });
  const config: OidcConfig = r.value.spec;
  const problems = oidcConfigProblems(config);
  if (problems.length > 0) throw new WardenError('config.invalid', `${file}: ${problems.join('; ')}`, { help: 'see "OIDC for people" in docs/api.md' });
  return config;
}

/** Reads and checks the OIDC configuration file. @throws WardenError `config.invalid`. */
export async function loadOidcConfig(file: string): Promise<OidcConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new WardenError('config.invalid', `${file}: cannot read the OIDC configuration file`);
  }
  return parseOidcConfig(file, text);
}
