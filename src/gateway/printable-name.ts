/** Longest requested name an audit event or a message repeats, in characters of its printable form. @default 128 */
export const PRINTABLE_NAME_MAX = 128;

/**
 * A name an agent sent, made safe to log and to echo: printable ASCII stays as it is, a backslash
 * is doubled, and every other code point (NUL, controls, zero-width and bidi characters, homoglyphs
 * such as a Cyrillic `е`, a trailing space's look-alikes) is written `\u{…}`, so a reader sees
 * exactly which name was asked for. Longer than `max`, it is cut and says how long it was.
 * @example printableName('echo\u200b') // 'echo\\u{200b}'
 */
export function printableName(name: string, max = PRINTABLE_NAME_MAX): string {
  let out = '';
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    const piece = ch === '\\' ? '\\\\' : cp >= 0x20 && cp <= 0x7e ? ch : `\\u{${cp.toString(16)}}`;
    if (out.length + piece.length > max) return `${out}… (${name.length} characters)`;
    out += piece;
  }
  return out;
}
