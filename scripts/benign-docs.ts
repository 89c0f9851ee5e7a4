/**
 * Benign technical documents for the injection model: the READMEs and manifests of the packages `npm ci` installs
 * (node_modules, pinned by package-lock.json, so the set is the same on every clean clone). An agent reads
 * such text all day through file and web tools, and the training data has none of it: its long texts are
 * jailbreaks, so a long markdown document with a few imperatives scored as an injection.
 *
 * Packages are split in two by a hash of their name: `train` feeds the training script, `eval` is only
 * measured (eval-detect's false-positive rate on documents), so the figure is on packages the model never saw.
 * Documents about prompt injection or jailbreaks themselves (guard libraries quote attacks) are left out of
 * both: their quoted attacks are not benign, and labelling them either way would teach the wrong thing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFeature } from '../src/detect/injection/features.js';

/** One chunk of a document, as a tool would return it. */
export interface DocChunk {
  /** The package it came from (chunks of a package share a fold). */
  readonly pkg: string;
  readonly text: string;
}

const ABOUT_ATTACKS = /prompt[ -]?injection|jailbreak|ignore (?:all )?previous instructions/i;

/** Top-level and scoped package directories under `modules`, sorted. */
function packages(modules: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(modules).sort()) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) for (const sub of readdirSync(join(modules, name)).sort()) out.push(`${name}/${sub}`);
    else out.push(name);
  }
  return out;
}

/**
 * Splits a document into chunks of at most `max` chars at blank lines (a paragraph longer than `max` is cut),
 * keeping chunks of at least `min` chars: the sizes a file or web tool returns.
 */
export function chunkDocument(text: string, max = 3000, min = 400): string[] {
  const out: string[] = [];
  let cur = '';
  for (const para of text.split(/\n\s*\n/)) {
    if (cur.length > 0 && cur.length + para.length + 2 > max) {
      out.push(cur);
      cur = '';
    }
    cur = cur.length > 0 ? `${cur}\n\n${para}` : para;
    while (cur.length > max) {
      out.push(cur.slice(0, max));
      cur = cur.slice(max);
    }
  }
  if (cur.length > 0) out.push(cur);
  return out.filter((c) => c.trim().length >= min);
}

/**
 * The chunks of one half of the installed READMEs, at most `perDoc` chunks each (the first ones: a README's
 * introduction and usage). Throws when node_modules is missing: run `npm ci` first.
 */
export function benignDocs(root: string, half: 'train' | 'eval', perDoc: number): DocChunk[] {
  if (!(perDoc > 0)) return [];
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) throw new Error(`benign documents come from ${modules}: run npm ci first`);
  const out: DocChunk[] = [];
  for (const pkg of packages(modules)) {
    // FNV-1a of the name (its low bit survives the feature mask): the split does not depend on listing order.
    if ((hashFeature(pkg) & 1) !== (half === 'train' ? 0 : 1)) continue;
    const file = ['README.md', 'readme.md', 'Readme.md'].map((f) => join(modules, pkg, f)).find((f) => existsSync(f));
    if (file === undefined) continue;
    const text = readFileSync(file, 'utf8');
    if (ABOUT_ATTACKS.test(text)) continue;
    for (const chunk of chunkDocument(text).slice(0, perDoc)) out.push({ pkg, text: chunk });
    // The package's manifest too, whole: JSON is what API and file tools return most.
    const manifest = readFileSync(join(modules, pkg, 'package.json'), 'utf8');
    if (manifest.length >= 400 && manifest.length <= 6000) out.push({ pkg, text: manifest });
  }
  return out;
}
