import lists from './person-names.json' with { type: 'json' };

/**
 * PERSON without a model: a gazetteer of given names over runs of capitalized words.
 *
 * The text is cut into words; a run is capitalized words joined by single spaces, with initials ("D." or
 * "D") and surname particles ("van", "de") inside it and apostrophes ("O'Brien") within words. A run is a
 * name from its first known given name on, when a capitalized word follows it ("Faina D. Yefremova";
 * "Producer Liviana Palerma" gives "Liviana Palerma"). Given names come in grades (person-names.json, built
 * by scripts/build-person-names.ts): census names (`FIRST`) lead a run or stand alone; rarer names (`RARE`,
 * already stripped of English words) lead a run, and stand alone only before a verb, a possessive or a
 * speaker's colon; names that are also common words, places or products (`AMBIGUOUS`: Will, May, Grant,
 * Virginia, Claude) lead a run only when a known surname (`LAST`) ends it ("Will Smith") and never stand
 * alone. A lone census name counts mid-sentence, or at a sentence's start before a lower-case word ("Nora
 * is"). Without a known given name, a run is a name after a title or "my name is", with a dotted initial
 * inside ("Soib K. Kishiev"), or when it ends in a surname's ending ("-ov", "-ić", "-sson"). A name found
 * once is a name wherever its words recur in the same text. Runs next to street or company words, house
 * numbers or street names ("Avenida Pedro Ulisses 888", "Victor Hugo Street") are places, and words glued
 * to `@`, `/`, `_`, digits or a dotted identifier are not prose, so addresses, URLs and code stay out.
 */

/** A span of a person's name, in UTF-16 offsets. */
export interface PersonSpan {
  readonly start: number;
  readonly end: number;
  readonly score: number;
}

const lines = (s: string) => new Set(s.split('\n'));
const FIRST = lines(lists.first);
const RARE = lines(lists.rare);
const LAST = lines(lists.last);

/** Census given names that are also common English words, places or brands: they lead a run only before a known surname. */
const AMBIGUOUS = new Set(
  (
    'in an will page my free may see so web price read way car long even link case care north law art love man job west gay la say park red august young field court al fax ' +
    'china major star sun mar land early miles bill mark rock far bank town loan india brand base king cash bay ad port bar soon season cross hope hi summer virginia song win ' +
    'spring hill happy pa christian hall kit boy son mac max van ring german ed winter wood fee fair paris un saw trip worth mi grant fan jack pet royal guy dev na skip forest ' +
    'chance palm ford fields miss diamond wait rose di del urban rich marine faith golden brain carry em queen hong ray bear con frank minor row bird hunter lady crystal dell ' +
    'junior les moon delta alpha sky dot victoria don dick angel bell lane jordan lib ab cam prince ram costa buddy dean bond gun lock storm mile ha sterling gray rice boot ' +
    'shell ky charlotte chip echo latina tab si pearl nick ag desire grace bone roman tiny jay angle rob liberty era honor valentine pen madison joy lay deck temple sierra ' +
    'shadow grove princess pat yard mayor reg kent ebony ward walker glad charity wake wells lucky candy hunt mill den fe clay eve glory ja rod wolf ta cherry meta wash noble ' +
    'duke ai pace dawn doll reed ban temp trace lion cookie cad robin cord carol sue hang amber camel chi chase ruby drew gates haven rocky omega mart arch florence honey ' +
    'sandy maple autumn chuck dale glen olive chad heather sunshine ash easter coral fancy bee bride genesis doe sim trinity rip chick sol sage bat booth nu berry hart deny ' +
    'penny ivory earl karma holly mercy ham rand buck dom savannah dare cos fairy lean kitty merry mil ping derby bo heath yale pierce bald dame herb fin emerald cliff belle ' +
    'marvel yen sapphire bunny keen destiny jewel velvet gale moss lance mae ware wan jade wit daisy myrtle marsh bent georgia austin dallas houston sydney lincoln washington ' +
    'chelsea brooklyn israel carolina dakota nevada montana kansas florida phoenix orlando denver camden regina adelaide jersey cleveland milan vienna trent tyrone ' +
    'chance unique precious miracle lovely sunny patience prudence constance harmony melody cloud rain river stone sugar spice pepper ginger basil violet iris lily hazel ' +
    'ivy laurel jasmine poppy heather rosemary saffron else many manual numbers marry hung sang sung chin dung bong earnest pasty buster bud mica lore kip gala hue ' +
    'windy dusty rusty misty stormy tequila tiara sparkle pinkie cherish caprice blossom raven scarlet garland garnet fawn fern flora magnolia pansy dahlia camellia ' +
    'camelia hyacinth angelic aura conception chastity lacy tawny dimple dolly homer patsy sally rex jesus claude alexa siri jarvis cortana asia africa europe america ' +
    'mercury venus mars jupiter saturn neptune pluto'
  ).split(' '),
);

const words = (s: string) => new Set(s.split(' '));

/** Capitalized words that end a run and are no part of a name: function words, titles, suffixes, compass words. */
const STOP = words(
  'the of and for from with at by to on in or me my you your we our us he she his her him it its is are was were be a an i not no do so if as this that these those ' +
    'what who why how when where which there here all any some every each new old mr mrs ms miss mx dr prof sir madam dame mister doctor professor jr sr ii iii iv phd md esq ' +
    'north south east west upper lower great little saint st san santa hi hello hey dear thanks',
);

/**
 * Capitalized words of addresses and organizations (USPS street suffixes that are rarely surnames, street words
 * of other languages, company and institution words): a run they follow or precede is a place or a company.
 */
const PLACE = words(
  'street avenue ave road rd drive court ct place pl square sq boulevard blvd way terrace parkway highway hwy route plaza circle crescent close alley apt apartment ' +
    'suite unit floor box building tower bridge station airport harbor harbour beach heights valley bypass point points extension extensions mall loop pass path pike ' +
    'trail turnpike underpass overpass viaduct walk walks expressway freeway junction landing lodge manor meadow meadows mews orchard oval plains ridge shore shores ' +
    'spur summit track trace village ville vista house opera estates crossing causeway canyon creek cove crest gateway hollow inlet knoll avenida avda av rua rúa rue via viale calle ' +
    'carrer ul ulica strada piazza praça largo travessa estrada rodovia chemin allée impasse jalan straße strasse gasse weg platz utca út vej gade gata gatan katu tie ' +
    'inc llc ltd corp corporation company co group holdings partners bank university college school academy institute foundation association society club team ' +
    'hospital clinic church hotel center centre museum library gallery theater theatre studio studios records press media labs systems solutions services ' +
    'technologies technology consulting ventures associates capital industries international global enterprises software networks communications airlines motors ' +
    'pharmaceuticals insurance financial partnership agency city county state province district republic kingdom island islands mountain mountains river lake sea ocean',
);

/** Capitalized words that start the names of places ("San Francisco", "New Haven", "Port Elizabeth"). */
const PLACE_HEADS = words('san santa santo são st saint new north south east west upper lower great little fort port mount lake cape los las el la le');

/** Street words written in lower case before a name ("avenida Pedro Ulisses", "ul. Jana Pawła"). */
const STREET_HEADS = words('avenue avenida avda av rua rúa rue via viale calle carrer ul ulica strada piazza praça largo travessa chemin allée jalan');

/** Lower-case words inside a surname ("Ludwig van Beethoven", "Vinicius de Moraes"). */
const PARTICLES = new Set('van von der den de del della di da das dos du la le ten ter bin ibn al el y'.split(' '));

const LETTER = /[\p{L}\p{M}]/u;
const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;

function isLetter(c: string): boolean {
  const x = c.charCodeAt(0);
  if (x < 128) return (x >= 65 && x <= 90) || (x >= 97 && x <= 122);
  return LETTER.test(c);
}

function isUpper(c: string): boolean {
  const x = c.charCodeAt(0);
  return x < 128 ? x >= 65 && x <= 90 : UPPER.test(c);
}

function isLower(c: string): boolean {
  const x = c.charCodeAt(0);
  return x < 128 ? x >= 97 && x <= 122 : LOWER.test(c);
}

/** Shapes of words that start with a capital: capitalized word, initial, or anything else (ACRONYM, CamelCase). */
const enum Shape {
  Cap,
  Initial,
  Other,
}

interface Word {
  readonly start: number;
  readonly end: number;
  readonly shape: Shape;
  /** The word in lower case, for capitalized words only. */
  readonly key: string;
}

/** The short lower-case word that ends right before `at` (past spaces and a dot), if any: "avenida" in "avenida Pedro". */
function lowerWordBefore(text: string, at: number): string {
  let e = at;
  while (e > 0 && at - e < 3 && (text[e - 1] === ' ' || text[e - 1] === '.')) e--;
  let b = e;
  while (b > 0 && e - b <= 8 && isLower(text[b - 1]!)) b--;
  return b < e && e - b <= 8 && !letterAt(text, b - 1) ? text.slice(b, e) : '';
}

/** `Smith`, `O'Brien`, `McDonald`, `Jean-Luc`, `Szöllössy`: one capital, lower case after it except past `'`, `-`, Mc or Mac. */
function shapeOf(w: string): Shape {
  if (w.length === 1) return Shape.Initial;
  let lower = false;
  for (let i = 1; i < w.length; i++) {
    const c = w[i]!;
    if (isLower(c)) lower = true;
    else if (isUpper(c)) {
      const prev = w[i - 1]!;
      const glued = prev === "'" || prev === '’' || prev === '-' || ((i === 2 || i === 3) && (w.startsWith('Mc') || w.startsWith('Mac')));
      if (!glued) return Shape.Other;
    }
  }
  return lower ? Shape.Cap : Shape.Other;
}

/** Chars that glue a word to an identifier, address or path: such a word is not prose. */
function gluing(c: string | undefined, next: string | undefined): boolean {
  if (c === undefined) return false;
  if (c === '@' || c === '/' || c === '\\' || c === '_' || c === '=' || c === '#' || (c >= '0' && c <= '9')) return true;
  return c === '.' && next !== undefined && isLetter(next);
}

function letterAt(text: string, i: number): boolean {
  const x = text.charCodeAt(i);
  if (x < 128) return (x >= 65 && x <= 90) || (x >= 97 && x <= 122);
  return x === x && LETTER.test(text[i]!);
}

/** `'`, `’` or `-` between two letters keeps a word whole ("O'Brien", "Jean-Luc"). */
function joinerAt(text: string, i: number): boolean {
  const x = text.charCodeAt(i);
  return (x === 39 || x === 0x2019 || x === 45) && letterAt(text, i + 1);
}

/** The words of `text` that start with a capital; lower-case words are only stepped over. */
function tokenize(text: string): Word[] {
  const out: Word[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!letterAt(text, i)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && (letterAt(text, i) || joinerAt(text, i))) i++;
    if (!isUpper(text[start]!)) continue;
    // A possessive `'s` is not part of the name.
    let end = i;
    if (end - start > 2 && (text[end - 2] === "'" || text[end - 2] === '’') && text[end - 1] === 's') end -= 2;
    const glued = gluing(text[start - 1], text[start]) || (start >= 2 && text[start - 1] === '.' && letterAt(text, start - 2)) || gluing(text[i], text[i + 1]);
    const w = text.slice(start, end);
    const shape = glued ? Shape.Other : shapeOf(w);
    out.push({ start, end, shape, key: shape === Shape.Cap ? w.toLowerCase() : '' });
  }
  return out;
}

/** Whether the words `a` and `b` are parts of one name: a single space, `. ` after an initial, or a particle ("van"). */
function joined(text: string, a: Word, b: Word): boolean {
  const gap = b.start - a.end;
  if (gap === 1) return text[a.end] === ' ';
  if (gap === 2) return a.shape === Shape.Initial && text[a.end] === '.' && text[a.end + 1] === ' ';
  return gap <= 7 && text[a.end] === ' ' && text[b.start - 1] === ' ' && PARTICLES.has(text.slice(a.end + 1, b.start - 1));
}

/** Whether the text before `at` ends a sentence, a line or a label (so a capital there says nothing). */
function sentenceStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
  if (i < 0) return true;
  return '.!?:;\n\r"“”‘\'([{<>*•|-–—'.includes(text[i]!);
}

function atLineStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
  return i < 0 || text[i] === '\n' || text[i] === '>';
}

/**
 * Phrases before a run, by what they say of it: after `strong` ones (titles, "my name is") any run is a
 * name; after `medium` ones (speech verbs, a "Name:" label) a run of two words or more, or one known
 * name, is; after `weak` ones ("called", "hi") only one known name or a surname-shaped word is.
 */
type Cue = 'strong' | 'medium' | 'weak';
const CUES: ReadonlyArray<readonly [string, Cue]> = [
  ...['name is', 'name was', 'name?', 'dear', 'signed,', 'regards,', 'sincerely,', 'patient:', 'customer:'].map((p) => [p, 'strong'] as const),
  ...['said', 'says', 'asked', 'told', 'replied', 'explained', 'wrote'].map((p) => [p, 'medium'] as const),
  ...['named', 'called', 'name:', 'hi', 'hello', 'hey', 'thanks', 'thank you', "i'm", 'i am'].map((p) => [p, 'weak'] as const),
];
const TITLES = words('mr mrs ms miss mx dr prof sir madam dame mister');

/**
 * What the text right before a run (spaces and tabs between) says about it; see `CUES`. A strong cue also
 * reaches across one line break ("Best regards,\nAlex", "Dear\nDr. …"); a weaker one stays on the run's line.
 */
function cueBefore(text: string, at: number): Cue | undefined {
  const i = skipBlanks(text, at);
  if (text[i - 1] === '\n') return cueEndingAt(text, skipBlanks(text, text[i - 2] === '\r' ? i - 2 : i - 1)) === 'strong' ? 'strong' : undefined;
  return i === at ? undefined : cueEndingAt(text, i);
}

/** `at` moved back past at most 8 spaces and tabs. */
function skipBlanks(text: string, at: number): number {
  let i = at;
  while (i > 0 && at - i < 8 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  return i;
}

/**
 * The last word of every cue and title but "Name:", in lower case: such a cue's phrase ends in one, maybe
 * with one of `?,:.` after it, and it starts the text's last run of ASCII letters (a phrase ending in a
 * longer run has a letter before it, and is not the cue).
 */
const CUE_WORDS = new Set([...CUES.map(([p]) => p.replace(/[?,:.]$/, '').split(/[ ']/).pop()!), ...TITLES]);

/** The cue the text ending at `i` holds, if any. */
function cueEndingAt(text: string, i: number): Cue | undefined {
  const head = text.slice(Math.max(0, i - 16), i);
  const lower = head.toLowerCase();
  // "Name:" as a form label, glued or not; lower-case "name:" is as often a YAML key.
  if (head.endsWith('Name:')) return 'medium';
  // Most runs stand after no cue at all: the letters ending the text (past one `?,:.`) settle that first.
  let e = lower.length;
  const last = lower.charCodeAt(e - 1);
  if (last === 63 || last === 44 || last === 58 || last === 46) e--;
  let b = e;
  while (b > 0 && e - b < 10 && lower.charCodeAt(b - 1) >= 97 && lower.charCodeAt(b - 1) <= 122) b--;
  if (!CUE_WORDS.has(lower.slice(b, e))) return undefined;
  const title = /[a-z]{2,9}\.?$/.exec(lower)?.[0];
  if (title !== undefined && TITLES.has(title.replace('.', '')) && !isLetter(lower[lower.length - title.length - 1] ?? ' ')) return 'strong';
  for (const [p, cue] of CUES) if (lower.endsWith(p) && !isLetter(lower[lower.length - p.length - 1] ?? ' ')) return cue;
  return undefined;
}

/** Surname endings that mark a word as a surname (Slavic, Nordic, Greek, Romanian, Finnish, Georgian, Spanish). */
const SURNAME_ENDINGS = [
  'ov', 'ova', 'ev', 'eva', 'ski', 'ska', 'sky', 'cki', 'cka', 'wicz', 'vich', 'ić', 'ič', 'ová', 'enko', 'chuk', 'yan', 'dze', 'shvili', 'poulos', 'akis', 'idis',
  'escu', 'eanu', 'oglu', 'oğlu', 'sson', 'sen', 'dóttir', 'dottir', 'inen', 'nen', 'qvist', 'quist', 'ström', 'strom', 'stedt', 'gaard', 'ez',
];

function surnameShaped(key: string): boolean {
  return SURNAME_ENDINGS.some((e) => key.length >= e.length + 3 && key.endsWith(e));
}

/** A place or a company: a run right after a number or a street word, or before a number or a place word. */
function placeLike(text: string, ws: readonly Word[], i: number, j: number): boolean {
  const prev = ws[i - 1];
  if (prev !== undefined && ws[i]!.start - prev.end <= 2) {
    if (PLACE.has(prev.key) || PLACE_HEADS.has(prev.key)) return true;
  }
  if (STREET_HEADS.has(lowerWordBefore(text, ws[i]!.start))) return true;
  const next = ws[j + 1];
  if (next !== undefined && next.shape === Shape.Cap && next.start - ws[j]!.end === 1 && text[ws[j]!.end] === ' ' && PLACE.has(next.key)) return true;
  const before = text.charCodeAt(ws[i]!.start - 2);
  const after = text.charCodeAt(ws[j]!.end + 1);
  return (text[ws[i]!.start - 1] === ' ' && before >= 48 && before <= 57) || (text[ws[j]!.end] === ' ' && after >= 48 && after <= 57);
}

/** Finds people's names in prose; see the comment at the top of this file for the rules. */
export function findPersonNames(text: string): PersonSpan[] {
  const ws = tokenize(text);
  const out: PersonSpan[] = [];
  let i = 0;
  while (i < ws.length) {
    const w = ws[i]!;
    if (w.shape !== Shape.Cap || STOP.has(w.key) || PLACE.has(w.key)) {
      i++;
      continue;
    }
    // The run: capitalized words and initials joined by single spaces or particles.
    let j = i;
    while (j + 1 < ws.length && j - i < 5) {
      const next = ws[j + 1]!;
      if (!joined(text, ws[j]!, next)) break;
      if (next.shape === Shape.Cap && !STOP.has(next.key) && !PLACE.has(next.key)) j++;
      else if (next.shape === Shape.Initial) j++;
      else break;
    }
    // A run does not end in an initial.
    while (j > i && ws[j]!.shape !== Shape.Cap) j--;
    const span = nameIn(text, ws, i, j);
    if (span !== undefined) out.push(span);
    i = j + 1;
  }
  return out.length === 0 ? out : alsoElsewhere(ws, out);
}

/** A name found once is a name wherever its words stand alone in the same text ("Emmie Ström's tales ... early Ström"). */
function alsoElsewhere(ws: readonly Word[], found: PersonSpan[]): PersonSpan[] {
  const keys = new Set<string>();
  let f = 0;
  for (const w of ws) {
    while (f < found.length && found[f]!.end <= w.start) f++;
    const inside = f < found.length && found[f]!.start <= w.start;
    if (inside && w.shape === Shape.Cap && w.end - w.start >= 3 && !AMBIGUOUS.has(w.key) && !STOP.has(w.key)) keys.add(w.key);
  }
  const out = [...found];
  f = 0;
  for (const w of ws) {
    while (f < found.length && found[f]!.end <= w.start) f++;
    const inside = f < found.length && found[f]!.start < w.end;
    if (!inside && w.shape === Shape.Cap && keys.has(w.key)) out.push({ start: w.start, end: w.end, score: 0.5 });
  }
  return out.length === found.length ? found : out.sort((a, b) => a.start - b.start);
}

/** The name within the run `ws[i..j]`, if any. */
function nameIn(text: string, ws: readonly Word[], i: number, j: number): PersonSpan | undefined {
  const first = ws[i]!;
  const last = ws[j]!;
  // The cue before the run is read only where a rule needs it: most runs are settled without it.
  if (placeLike(text, ws, i, j)) return cueBefore(text, first.start) === 'strong' ? personSpan(first, last, 0.7) : undefined;
  // From the first given name that leads a name, when a capitalized word follows it.
  for (let k = i; k < j; k++) {
    const w = ws[k]!;
    if (w.shape !== Shape.Cap) continue;
    if (AMBIGUOUS.has(w.key)) {
      if (LAST.has(last.key) && !AMBIGUOUS.has(last.key)) return personSpan(w, last, 0.6);
    } else if (FIRST.has(w.key)) return personSpan(w, last, LAST.has(last.key) ? 0.8 : 0.7);
    else if (RARE.has(w.key)) return personSpan(w, last, LAST.has(last.key) ? 0.7 : 0.6);
  }
  const cue = cueBefore(text, first.start);
  if (cue === 'strong') return personSpan(first, last, 0.7);
  if (j > i) {
    // "Soib K. Kishiev", "Ushurma Dratchev": an initial with a dot inside, or a surname's ending.
    let dotted = false;
    let caps = 0;
    for (let k = i; k <= j; k++) {
      const w = ws[k]!;
      if (w.shape === Shape.Cap) caps++;
      else if (w.shape === Shape.Initial && text[w.end] === '.') dotted = true;
    }
    if (!dotted && !surnameShaped(last.key) && cue !== 'medium') return undefined;
    // A capital at a sentence's start says nothing: "Producer Velimir R. Janković" starts at Velimir.
    const skip = caps >= 3 && sentenceStart(text, first.start) && !FIRST.has(first.key) && !RARE.has(first.key) && !LAST.has(first.key);
    return personSpan(skip ? ws[i + 1]! : first, last, dotted || surnameShaped(last.key) ? 0.55 : 0.5);
  }
  // One word.
  const w = last;
  if (AMBIGUOUS.has(w.key)) return undefined;
  const known = FIRST.has(w.key) && w.end - w.start >= 3;
  const rare = RARE.has(w.key);
  if (!known && !rare) return cue !== undefined && surnameShaped(w.key) ? personSpan(w, w, 0.5) : undefined;
  const next = text[w.end];
  const possessive = (next === "'" || next === '’') && text[w.end + 1] === 's';
  const speaker = next === ':' && atLineStart(text, w.start);
  if (possessive || speaker || cue !== undefined) return personSpan(w, w, 0.5);
  if (!sentenceStart(text, w.start)) return known ? personSpan(w, w, 0.5) : undefined;
  // At a sentence's start, a given name followed by a lower-case word ("Nora is very reliable").
  return next === ' ' && isLower(text[w.end + 1] ?? ' ') ? personSpan(w, w, 0.5) : undefined;
}

function personSpan(from: Word, to: Word, score: number): PersonSpan {
  return { start: from.start, end: to.end, score };
}
