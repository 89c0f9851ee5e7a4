/** An element of a parsed XML document: its attributes, child elements and (decoded) text. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
// eslint-disable-next-line no-control-regex -- matching the characters XML forbids is the point
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A strict parser for the XML the CLI writes (an optional declaration, elements, attributes, text,
 * the five predefined entities and character references): anything else, or anything not
 * well-formed (unbalanced tags, a bare `&` or `<`, a duplicate attribute, a character XML 1.0
 * forbids), throws. No XML library is a dependency, and this much is enough to prove a report parses.
 */
export function parseXml(s: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new SyntaxError(`${why} at offset ${i}`);
  };
  if (ILLEGAL.test(s)) fail('a character XML 1.0 forbids');
  const ws = () => {
    while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
  };
  const expect = (t: string) => {
    if (!s.startsWith(t, i)) fail(`expected \`${t}\``);
    i += t.length;
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(s);
    if (!m) return fail('expected a name');
    i += m[0].length;
    return m[0];
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);|&/g, (all, ref: string | undefined) => {
      if (ref === undefined) return fail('a bare `&`');
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (named[ref] !== undefined) return named[ref];
      const num = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
      if (!num) return fail(`an unknown entity ${all}`);
      return String.fromCodePoint(num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2]));
    });
  const element = (): XmlElement => {
    expect('<');
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      ws();
      if (s.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (s[i] === '>') {
        i++;
        break;
      }
      const key = name();
      ws();
      expect('=');
      ws();
      const q = s[i];
      if (q !== '"' && q !== "'") fail('an unquoted attribute');
      const end = s.indexOf(q!, i + 1);
      if (end < 0) fail('an unterminated attribute');
      const raw = s.slice(i + 1, end);
      if (raw.includes('<')) fail('`<` in an attribute');
      if (Object.hasOwn(el.attrs, key)) fail(`a duplicate attribute \`${key}\``);
      el.attrs[key] = decode(raw);
      i = end + 1;
    }
    for (;;) {
      if (i >= s.length) fail(`\`<${el.name}>\` is never closed`);
      if (s.startsWith('</', i)) {
        i += 2;
        const close = name();
        if (close !== el.name) fail(`\`</${close}>\` closes \`<${el.name}>\``);
        ws();
        expect('>');
        return el;
      }
      if (s[i] === '<') el.children.push(element());
      else {
        const next = s.indexOf('<', i);
        el.text += decode(s.slice(i, next < 0 ? s.length : next));
        i = next < 0 ? s.length : next;
      }
    }
  };
  if (s.startsWith('<?xml')) {
    const end = s.indexOf('?>');
    if (end < 0) fail('an unterminated declaration');
    i = end + 2;
  }
  ws();
  const root = element();
  ws();
  if (i !== s.length) fail('content after the root element');
  return root;
}
