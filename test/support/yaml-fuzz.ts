/**
 * The differential check of the plain YAML reader (src/policy/plain-yaml.ts) against `yaml`, and
 * the inputs it is run on: generated documents written by `yaml.stringify` in many styles, and
 * those documents mutated a character or a line at a time (where a second reader would go wrong).
 * Used by src/policy/plain-yaml.test.ts; a long run: `npx tsx test/support/yaml-fuzz-campaign.ts`.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parseAllDocuments, stringify, type ToStringOptions } from 'yaml';
import { readPlainYaml, type PlainDocument } from '../../src/policy/plain-yaml.js';

/** What `yaml` reads, as the policy loader reads it; `undefined` when it reports an error or `toJS` throws. */
export function readWithYaml(text: string): PlainDocument[] | undefined {
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return undefined;
  try {
    return docs.filter((d) => d.contents !== null).map((d) => ({ value: d.toJS({ maxAliasCount: 100 }) as Record<string, unknown>, offset: d.contents!.range[0] }));
  } catch {
    return undefined;
  }
}

/** True when both values have the same shape and share objects the same way (a bijection of objects). */
function sameSharing(a: unknown, b: unknown, ab = new Map<object, object>(), ba = new Map<object, object>()): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return true;
  const seenA = ab.get(a);
  const seenB = ba.get(b);
  if (seenA !== undefined || seenB !== undefined) return seenA === b && seenB === a;
  ab.set(a, b);
  ba.set(b, a);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameSharing((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], ab, ba));
}

/** The verdict on one text: `fast` when the plain reader read it, `fallback` when it gave up; throws on any disagreement. */
export function checkAgainstYaml(text: string): 'fast' | 'fallback' {
  const got = readPlainYaml(text);
  if (got === undefined) return 'fallback';
  const want = readWithYaml(text);
  if (want === undefined) throw new Error(`the plain reader accepted what yaml rejects:\n${JSON.stringify(text)}`);
  if (!isDeepStrictEqual(got, want)) {
    throw new Error(`the plain reader read differently:\n${JSON.stringify(text)}\nplain: ${JSON.stringify(got)}\nyaml:  ${JSON.stringify(want)}`);
  }
  if (!got.every((d, i) => sameSharing(d.value, want[i]!.value))) throw new Error(`the plain reader shares objects differently:\n${JSON.stringify(text)}`);
  return 'fast';
}

// Strings a reader could misread: indicators, YAML 1.1 and core-schema look-alikes, comments,
// colons, quotes, escapes, spaces at the ends, Unicode spaces and letters.
const TRICKY = [
  '', ' ', 'a', 'a b', 'a  b', ' a', 'a ', 'a: b', 'a:b', 'a:', 'a #b', 'a#b', '#a', '-a', '- a', '-', '--', '---', '...', '?a', '? a', ':a',
  '*a', '&a', '!a', '!!str a', '|', '>', '%a', '@a', '`a', '[a]', '{a: b}', 'a, b', '"a"', "'a'", 'a"b', "a'b", "it's", '\\', '\\n', 'a\\"b',
  'true', 'True', 'TRUE', 'false', 'yes', 'no', 'on', 'off', 'y', 'null', 'Null', 'NULL', '~', '1', '01', '007', '1.5', '.5', '5.', '1e3', '1E3',
  '-1', '+1', '0x1F', '0o17', '0b1', '.inf', '-.Inf', '.NaN', '1_000', '12:30', '30m', '2026-11-24', '9007199254740993', '123456789012345', '1234567890123456',
  'a\nb', 'a\n\nb', 'a\tb', 'é', 'Straße', 'ключ', '日本', '\u00a0a', 'a\u2028b', 'tool.risk == "high" || (has(args.environment) && args.environment == "production")',
  'context.hour < 8 || context.hour >= 20', 'acme/g01/s02', '*.read*', 'shell.*', '__proto__', 'constructor', 'a'.repeat(90), 'word '.repeat(30).trim(),
];
const CHARS = ['a', 'b', ' ', ' ', ':', '#', '-', '"', "'", '\\', '*', '&', '.', '/', '0', '1', 'é', '\n', '[', '{', ',', '!', '|', '>', '%', '?', '~'];

// Words and phrases a plain reader should take, so that generated texts often stay inside its subset.
const WORDS = ['acme', 'g01', 'tool.call', 'deploy.*', 'has(args.x) && args.x == "y"', 'a b c', 'Straße', 'x-1', 'v1', 'one two three four five six seven eight nine ten eleven'];

function scalarStrings(tricky: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...WORDS) },
    { weight: tricky * 3, arbitrary: fc.constantFrom(...TRICKY) },
    { weight: tricky, arbitrary: fc.array(fc.constantFrom(...CHARS), { maxLength: 12 }).map((cs) => cs.join('')) },
  );
}

function documentValues(tricky: number): fc.Arbitrary<Record<string, unknown>> {
  const str = scalarStrings(tricky);
  const key = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('name', 'kind', 'spec', 'rules', 'match', 'tools', 'a', 'b.c', 'a/b', 'x-y', '_k', 'when') }, { weight: tricky, arbitrary: str });
  const scalar = fc.oneof(
    { weight: 8, arbitrary: str },
    { weight: 1, arbitrary: fc.integer({ min: -5, max: 2 ** 40 }) },
    { weight: tricky, arbitrary: fc.constantFrom(0.5, 1e21, -0, 2 ** 53 + 2, true, false, null) },
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
    list: fc.array(tie('value'), { maxLength: 4 }),
    map: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  }));
  // A mapping at the top, like every policy document, sometimes sharing a subtree (an alias).
  return fc.tuple(fc.dictionary(key, value, { minKeys: 1, maxKeys: 6 }), fc.boolean()).map(([doc, share]) => {
    const keys = Object.keys(doc);
    if (share && keys.length >= 2 && typeof doc[keys[0]!] === 'object' && doc[keys[0]!] !== null) doc[keys[keys.length - 1]!] = doc[keys[0]!];
    return doc;
  });
}

const styles: fc.Arbitrary<ToStringOptions> = fc.record({
  indentSeq: fc.boolean(),
  indent: fc.constantFrom(2, 2, 4),
  lineWidth: fc.constantFrom(0, 20, 80),
  minContentWidth: fc.constantFrom(0, 20),
  defaultStringType: fc.constantFrom('PLAIN', 'PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'),
  defaultKeyType: fc.constantFrom(null, 'PLAIN'),
  collectionStyle: fc.constantFrom('block', 'block', 'block', 'any'),
}) as fc.Arbitrary<ToStringOptions>;

/** A stream of 1–3 generated documents, written by `yaml` in one style, with optional comments and markers. */
export const generatedText = fc
  .tuple(fc.constantFrom(0, 0, 1, 4), styles, fc.boolean(), fc.boolean())
  .chain(([tricky, style, leadingMarker, comment]) =>
    fc.array(documentValues(tricky), { minLength: 1, maxLength: 3 }).map((docs) => {
      const texts = docs.map((d) => stringify(d, { ...style, aliasDuplicateObjects: true }));
      return `${comment ? '# a comment\n' : ''}${leadingMarker ? '---\n' : ''}${texts.join('---\n')}`;
    }),
  );

const MUTATION_CHARS = [' ', ' ', '\n', ':', '-', '#', '"', "'", '&', '*', 'a', '[', '{', '|', '>', '!', '%', '?', ',', '.', '0', '~', '\\', '\t', '\r', '\u00a0'];

/** One edit of a text: a character inserted, deleted or replaced, or a line duplicated, dropped, indented or dedented. */
const mutation = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.constantFrom(...MUTATION_CHARS)).map(([at, op, ch]) => (text: string): string => {
  const i = text.length === 0 ? 0 : at % (text.length + 1);
  const lines = text.split('\n');
  const l = lines.length === 0 ? 0 : at % lines.length;
  switch (op) {
    case 0:
      return text.slice(0, i) + ch + text.slice(i);
    case 1:
      return text.slice(0, i) + text.slice(i + 1);
    case 2:
      return text.slice(0, i) + ch + text.slice(i + 1);
    case 3:
      return [...lines.slice(0, l + 1), lines[l]!, ...lines.slice(l + 1)].join('\n');
    case 4:
      return [...lines.slice(0, l), ...lines.slice(l + 1)].join('\n');
    case 5:
      return [...lines.slice(0, l), ` ${lines[l]}`, ...lines.slice(l + 1)].join('\n');
    case 6:
      return [...lines.slice(0, l), lines[l]!.replace(/^ /, ''), ...lines.slice(l + 1)].join('\n');
    default:
      return [...lines.slice(0, l), `${lines[l]} ${ch}`, ...lines.slice(l + 1)].join('\n');
  }
});

/** Hand-written policy-like texts to mutate, in the styles people write (and `yaml` writes). */
export const SEEDS: readonly string[] = [
  'apiVersion: warden.dev/v1\nkind: Policy\nmetadata:\n  name: p\n  scope: acme/a\n  exclude:\n    - acme/a/x\nspec:\n  rules:\n    - name: r\n      match:\n        actions: &a1\n          - tool.call\n        tools:\n          - "*.exec"\n          - shell.*\n        roles:\n          - dev\n      when: context.hour < 8 ||\n        context.hour >= 20\n      effect: deny\n    - name: s\n      match:\n        actions: *a1\n      effect: require_approval\n      approval:\n        approvers:\n          roles:\n            - maintainer\n        count: 1\n',
  '# settings\napiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata:\n  scope: acme\nspec:\n  defaultEffect: deny # the default\n  timezone: Europe/Berlin\n---\napiVersion: warden.dev/v1\nkind: Policy\nmetadata:\n  name: q\n  scope:\n  - acme\n  - beta\nspec:\n  rules:\n  - name: r\n    effect: allow\n    message: \'it\'\'s fine: "really"\'\n',
  'a:\n  - b: 1\n    c: "x\\"y"\n  -\n    - nested\n  - - compact\nd: x\ne:\nf: true\n',
];

/** A seed or generated text with 1–4 edits. */
export const mutatedText = fc
  .tuple(fc.oneof(fc.constantFrom(...SEEDS), generatedText), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([text, edits]) => edits.reduce((t, edit) => edit(t), text));
