/**
 * Confusable letters folded to the Latin letter they imitate (a subset of Unicode's confusables.txt:
 * Cyrillic, Greek and Armenian letters that render like ASCII). NFKD has already folded fullwidth
 * forms, mathematical alphanumerics and accented letters before this table applies.
 */
export const HOMOGLYPHS: ReadonlyMap<number, string> = new Map(
  Object.entries({
    // Cyrillic lower
    а: 'a', в: 'b', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ɡ: 'g', ո: 'n', ս: 'u', ց: 'g', օ: 'o',
    // Cyrillic upper
    А: 'A', В: 'B', Е: 'E', Ё: 'E', Н: 'H', І: 'I', Ї: 'I', Ј: 'J', К: 'K', М: 'M', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X', Ѕ: 'S', Ԛ: 'Q', Ԝ: 'W', Ү: 'Y',
    // Greek
    α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y',
    Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
    // Latin lookalikes outside ASCII that NFKD keeps
    ı: 'i', ȷ: 'j', ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ß: 'ss', æ: 'ae', œ: 'oe',
  }).map(([k, v]) => [k.codePointAt(0)!, v]),
);

/** Scripts whose lookalike letters, mixed into a Latin word, mark a homoglyph attack. */
export function isConfusableScript(cp: number): boolean {
  return (cp >= 0x0370 && cp <= 0x03ff) || (cp >= 0x0400 && cp <= 0x052f) || (cp >= 0x0530 && cp <= 0x058f);
}
