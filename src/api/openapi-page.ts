import type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter } from './openapi.js';

/**
 * The reference page's Content-Security-Policy: nothing loads, nothing runs; only the inline style
 * applies. The page has no script, so none is allowed.
 */
export const REFERENCE_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Text as HTML text or attribute value: every character that could open markup is escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const esc = escapeHtml;
const code = (s: string) => `<code>${esc(s)}</code>`;
/** Deep enough for every schema of the API; a `$ref` cycle stops here instead of looping. */
const MAX_DEPTH = 12;

function isSchema(v: unknown): v is JsonSchema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function resolve(s: JsonSchema, doc: OpenApiDocument): { schema: JsonSchema; name?: string } {
  const ref = s.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    const name = ref.slice('#/components/schemas/'.length);
    const target = doc.components.schemas[name];
    if (target) return { schema: target, name };
  }
  return { schema: s };
}

/** A one-line label for a schema's type: `string`, `array of object`, `"allow" | "deny"`. */
function typeLabel(s: JsonSchema): string {
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const variants = ((s.anyOf ?? s.oneOf) as unknown[]).filter(isSchema);
    return variants.every((v) => 'const' in v || v.type === 'null' || (typeof v.type === 'string' && !v.properties && !v.items)) ? variants.map(typeLabel).join(' | ') : 'one of';
  }
  if (s.type === 'array') return isSchema(s.items) ? `array of ${typeLabel(s.items)}` : 'array';
  if (Array.isArray(s.type)) return s.type.join(' | ');
  if (typeof s.type === 'string') return s.type;
  return Object.keys(s).length === 0 ? 'any' : 'value';
}

/** Limits and formats worth a reader's eye, as short text. */
function constraints(s: JsonSchema): string[] {
  const out: string[] = [];
  const add = (key: string, label: string) => {
    if (s[key] !== undefined) out.push(`${label} ${typeof s[key] === 'string' ? s[key] : JSON.stringify(s[key])}`);
  };
  add('format', 'format');
  add('pattern', 'pattern');
  add('minLength', 'min length');
  add('maxLength', 'max length');
  add('minimum', 'min');
  add('maximum', 'max');
  add('minItems', 'min items');
  add('maxItems', 'max items');
  add('default', 'default');
  return out;
}

/** The children worth listing under a schema: its properties, its array items, its variants, its map values. */
function children(s: JsonSchema): Array<{ label: string; schema: JsonSchema; required: boolean }> {
  if (isSchema(s.properties)) {
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    return Object.entries(s.properties).filter(([, v]) => isSchema(v)).map(([k, v]) => ({ label: k, schema: v as JsonSchema, required: required.has(k) }));
  }
  if (s.type === 'array' && isSchema(s.items)) return children(s.items);
  const variants = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (variants && typeLabel(s) === 'one of') return variants.filter(isSchema).map((v, i) => ({ label: `variant ${i + 1}`, schema: v, required: false }));
  if (isSchema(s.patternProperties)) {
    const value = Object.values(s.patternProperties).find(isSchema);
    if (value) return [{ label: '[key]', schema: value, required: false }];
  }
  if (isSchema(s.additionalProperties) && Object.keys(s.additionalProperties).length > 0) return [{ label: '[key]', schema: s.additionalProperties, required: false }];
  return [];
}

function schemaTree(raw: JsonSchema, doc: OpenApiDocument, depth = 0): string {
  const { schema: s } = resolve(raw, doc);
  const kids = depth < MAX_DEPTH ? children(s) : [];
  if (kids.length === 0) return '';
  const items = kids.map((k) => {
    const { schema: c, name } = resolve(k.schema, doc);
    const facts = [
      `<span class="type">${esc(name ?? typeLabel(c))}</span>`,
      k.required ? '<span class="req">required</span>' : '',
      typeof c.description === 'string' ? `<span class="desc">${esc(c.description)}</span>` : '',
      ...constraints(c).map((t) => `<span class="cons">${esc(t)}</span>`),
    ].filter(Boolean);
    return `<li>${code(k.label)} ${facts.join(' ')}${schemaTree(c, doc, depth + 1)}</li>`;
  });
  return `<ul class="schema">${items.join('')}</ul>`;
}

function schemaBlock(s: JsonSchema, doc: OpenApiDocument): string {
  const { schema, name } = resolve(s, doc);
  const head = `<p><span class="type">${esc(name ?? typeLabel(schema))}</span>${typeof schema.description === 'string' ? ` <span class="desc">${esc(schema.description)}</span>` : ''}</p>`;
  return `${head}${schemaTree(schema, doc)}<details><summary>JSON Schema</summary><pre>${esc(JSON.stringify(schema, null, 2))}</pre></details>`;
}

function parameterRows(params: readonly OpenApiParameter[]): string {
  const rows = params.map(
    (p) =>
      `<tr><td>${code(p.name)}</td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${esc(typeLabel(p.schema))}</td><td>${esc([p.description ?? '', ...constraints(p.schema)].filter(Boolean).join('; '))}</td></tr>`,
  );
  return `<table><thead><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>notes</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function operationHtml(method: string, path: string, op: OpenApiOperation, doc: OpenApiDocument): string {
  const roles = op['x-warden-roles'];
  const facts = [
    `<dt>Authentication</dt><dd>${op.security.length > 0 ? 'bearer token' : 'none'}</dd>`,
    roles ? `<dt>Roles</dt><dd>${roles.map(code).join(' ')}</dd>` : '',
    op.description ? `<dt>Notes</dt><dd>${esc(op.description)}</dd>` : '',
  ].join('');
  const body = op.requestBody?.content['application/json'];
  const responses = Object.entries(op.responses).map(([status, r]) => {
    const schema = r.content?.['application/json']?.schema;
    const codes = r['x-warden-codes'];
    const success = status.startsWith('2');
    return `<details${success ? ' open' : ''} class="response"><summary><span class="status s${esc(status[0] ?? '')}">${esc(status)}</span> ${esc(r.description)}${codes && codes.length > 0 ? ` — ${codes.map(code).join(' ')}` : ''}</summary>${schema && success ? schemaBlock(schema, doc) : ''}</details>`;
  });
  return `<article id="${esc(op.operationId)}"><h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> ${code(path)}</h3>${op.summary ? `<p>${esc(op.summary)}</p>` : ''}<dl>${facts}</dl>${
    op.parameters ? `<h4>Parameters</h4>${parameterRows(op.parameters)}` : ''
  }${body ? `<h4>Request body</h4>${schemaBlock(body.schema, doc)}` : ''}<h4>Responses</h4>${responses.join('')}</article>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}header,main,nav{max-width:980px;margin:0 auto;padding:0 1.5rem}
h1{margin:1.5rem 0 .25rem}h2{border-bottom:2px solid #d8dde6;padding-bottom:.25rem;margin-top:2.5rem;text-transform:capitalize}
article{background:#fff;border:1px solid #d8dde6;border-radius:6px;padding:.5rem 1rem 1rem;margin:1rem 0}h3{font-size:1.05rem}h4{margin:1rem 0 .25rem}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}pre{background:#f3f5f8;padding:.5rem;overflow:auto;max-height:28rem}
.method{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .3rem;margin-right:.4rem;background:#57606a}
.get{background:#1f6feb}.post{background:#1a7f37}.put{background:#9a6700}.delete{background:#cf222e}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d8dde6;padding:.2rem .4rem;text-align:left;vertical-align:top}
ul.schema{list-style:none;padding-left:1.1rem;border-left:1px dotted #b8c0cc;margin:.2rem 0}
.type{color:#8250df}.req{color:#cf222e;font-size:.8em}.desc{color:#3b4252}.cons{color:#57606a;font-size:.85em;background:#f3f5f8;padding:0 .25rem;border-radius:3px}
.status{font-weight:700}.s2{color:#1a7f37}.s4{color:#9a6700}.s5{color:#cf222e}details.response{margin:.2rem 0}summary{cursor:pointer}nav ul{columns:2}`;

/**
 * The browsable reference of the API: every operation with its method, path, roles, parameters,
 * body and response schemas and error codes, rendered on the server from the OpenAPI document.
 * Self-contained (inline style, no script, nothing fetched); every text from the document is escaped.
 */
export function referencePage(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  const index: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = op.tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(method, path, op, doc)]);
      index.push(`<li><a href="#${esc(op.operationId)}">${esc(method.toUpperCase())} ${esc(path)}</a></li>`);
    }
  }
  const sections = [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([tag, ops]) => `<section><h2>${esc(tag)}</h2>${ops.join('')}</section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(doc.info.title)} reference</title><style>${STYLE}</style></head>
<body><header><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1><p>${esc(doc.info.description)}</p>
<p>The machine-readable document: <a href="../api/openapi.json">${code('/api/openapi.json')}</a> (OpenAPI ${esc(doc.openapi)}). Errors share one body, ${code('{ "error": { "code", "message", "issues"?, "help"? } }')}; the codes are listed in docs/errors.md.</p></header>
<nav><ul>${index.join('')}</ul></nav><main>${sections.join('')}</main></body></html>
`;
}
