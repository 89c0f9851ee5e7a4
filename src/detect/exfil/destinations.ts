import { hostAllowed, hostOf } from './hosts.js';

// Where a shell command line can send data. A command is let through the allow-list only when every
// destination on the line is known and allowed; whatever the parser is unsure of counts as unknown.

type Tool = 'curl' | 'wget' | 'powershell' | 'nc' | 'httpie' | 'other';

const TOOLS: Readonly<Record<string, Tool>> = {
  curl: 'curl', wget: 'wget', nc: 'nc', ncat: 'nc', netcat: 'nc', http: 'httpie', https: 'httpie', httpie: 'httpie', xh: 'httpie',
  iwr: 'powershell', irm: 'powershell', 'invoke-webrequest': 'powershell', 'invoke-restmethod': 'powershell',
  // Tools whose arguments we do not parse: their destinations are always unknown.
  ssh: 'other', scp: 'other', sftp: 'other', rsync: 'other', ftp: 'other', tftp: 'other', telnet: 'other', socat: 'other', openssl: 'other',
  ping: 'other', dig: 'other', nslookup: 'other', host: 'other', xargs: 'other', eval: 'other',
};

// Options whose value is never a destination (only options that take a value in every tool of the kind:
// wget's `-d`, `-H`, `-b`, `-c` and nc's `-d`, `-u`, `-c` are flags, so they are not here).
const VALUE_OPTIONS: Readonly<Record<Tool, ReadonlySet<string>>> = {
  curl: new Set(['-d', '--data', '--data-binary', '--data-raw', '--data-urlencode', '--data-ascii', '-F', '--form', '--form-string', '-H', '--header', '-T', '--upload-file', '-o', '--output', '-u', '--user', '-A', '--user-agent', '-e', '--referer', '-b', '--cookie', '-c', '--cookie-jar', '-X', '--request', '-m', '--max-time', '--connect-timeout', '-w', '--write-out', '--retry']),
  wget: new Set(['--post-data', '--post-file', '--body-data', '--body-file', '--header', '-o', '--output-file', '-O', '--output-document', '-U', '--user-agent', '--referer', '--method', '-t', '--tries', '-T', '--timeout']),
  powershell: new Set(['-method', '-body', '-infile', '-headers', '-contenttype', '-outfile', '-useragent', '-timeoutsec']),
  nc: new Set(['-w', '-p', '-s', '-e']),
  httpie: new Set(['-a', '--auth', '-o', '--output']),
  other: new Set(),
};

// Options that send the data somewhere other than the URL on the line (proxies, resolve overrides,
// URLs read from a file): the destination is unknown.
const REDIRECT_OPTIONS: Readonly<Record<Tool, ReadonlySet<string>>> = {
  curl: new Set(['-K', '--config', '-x', '--proxy', '--preproxy', '--resolve', '--connect-to', '--socks4', '--socks4a', '--socks5', '--socks5-hostname', '--proxy1.0', '--doh-url']),
  wget: new Set(['-i', '--input-file', '-e', '--execute', '--config', '-B', '--base']),
  powershell: new Set(['-proxy']),
  nc: new Set(['-x', '-X', '--proxy']),
  httpie: new Set(['--proxy']),
  other: new Set(),
};

const URL_START = /(?:^|[:="'(<,])[/\\]{2}/g;
const PLAIN_HOST = /^([a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::[0-9]{1,5})?$/;
const UNKNOWN_ANYWHERE = /\/dev\/(?:tcp|udp)\/|(?:^|[\s_])(?:https?|all|no)_proxy=/i;

/** The destinations of a command line: every host it names, and whether some destination is unknown. */
export interface Destinations {
  readonly hosts: readonly string[];
  readonly unknown: boolean;
}

/** The token without leading `(`/`<` and trailing `)`/`>`/`,`. Loops, not `/[)>,]+$/g`: that retries at every
 * char of a long run of closers and is quadratic on hostile input. */
function clean(token: string): string {
  let a = 0;
  let b = token.length;
  while (a < b && (token[a] === '(' || token[a] === '<')) a++;
  while (b > a && (token[b - 1] === ')' || token[b - 1] === '>' || token[b - 1] === ',')) b--;
  return token.slice(a, b);
}

/**
 * Splits a command line into commands (at unquoted `; & |` and newlines) and those into words, the
 * way a POSIX shell roughly would: quotes group and are dropped (`""` is still a word), `$(...)` and
 * backquotes stay one word, `#` at a word's start comments out the rest of the line. Backslashes are
 * kept as written, so `evil.example\@docs.example.com` still ends its host at the backslash.
 */
export function shellWords(text: string): string[][] {
  const out: string[][] = [];
  let words: string[] = [];
  let word = '';
  let has = false;
  let quote: string | undefined;
  let depth = 0;
  const endWord = () => {
    if (has) words.push(word);
    word = '';
    has = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c !== quote || c === '`') word += c;
      if (c === quote) quote = undefined;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
      word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '`') {
      quote = c;
      word += c;
      has = true;
    } else if (c === '$' && text[i + 1] === '(') {
      depth = 1;
      word += '$(';
      has = true;
      i++;
    } else if (c === '#' && !has) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (/\s/.test(c) || ';&|'.includes(c)) {
      endWord();
      if (c !== ' ' && c !== '\t') {
        if (words.length > 0) out.push(words);
        words = [];
      }
    } else {
      word += c;
      has = true;
    }
  }
  endWord();
  if (words.length > 0) out.push(words);
  return out;
}

function toolOf(token: string): Tool | undefined {
  const name = clean(token).toLowerCase().replace(/^.*[/\\]/, '').replace(/\.exe$/, '');
  return TOOLS[name];
}

/** Every host a command line can reach: URLs anywhere on it, and the bare host arguments of the network tools it runs. */
export function commandDestinations(text: string): Destinations {
  const hosts: string[] = [];
  let unknown = UNKNOWN_ANYWHERE.test(text);
  let sawTool = false;
  for (const tokens of shellWords(text)) {
    for (const t of tokens) {
      for (const m of t.matchAll(URL_START)) {
        const host = hostOf(t.slice(m.index));
        if (host === undefined) unknown = true;
        else hosts.push(host);
      }
    }
    const at = tokens.findIndex((t) => toolOf(t) !== undefined);
    if (at < 0) continue;
    sawTool = true;
    const tool = toolOf(tokens[at]!)!;
    if (tool === 'other') {
      unknown = true;
      continue;
    }
    const fold = (o: string) => (tool === 'powershell' ? o.toLowerCase() : o);
    let lastWasHost = false;
    let sawUrl = false;
    for (let i = at + 1; i < tokens.length; i++) {
      const t = clean(tokens[i]!);
      if (t.startsWith('-') && t.length > 1) {
        const eq = t.indexOf('=');
        const name = fold(eq > 0 ? t.slice(0, eq) : t);
        if (REDIRECT_OPTIONS[tool].has(name)) unknown = true;
        else if (eq < 0 && VALUE_OPTIONS[tool].has(name)) i++;
        else if (eq > 0 && !VALUE_OPTIONS[tool].has(name)) unknown ||= !classify(t.slice(eq + 1), tool, hosts, false, false).known;
        lastWasHost = false;
        continue;
      }
      const r = classify(t, tool, hosts, lastWasHost, sawUrl);
      unknown ||= !r.known;
      lastWasHost = r.host;
      sawUrl ||= r.host;
    }
  }
  return { hosts, unknown: unknown || !sawTool };
}

// Classifies one positional argument of a network tool, pushing the host it names. httpie's words after
// its URL are request items (`a=b`, `f@file`, `Header:value`), not destinations.
function classify(t: string, tool: Tool, hosts: string[], afterHost: boolean, sawUrl: boolean): { known: boolean; host: boolean } {
  if (t === '') return { known: true, host: false };
  if (/^(?:[a-z][a-z0-9+.-]*:)?[/\\]{2}/i.test(t)) return { known: true, host: true }; // a URL: collected already
  if (/^[0-9]{1,5}$/.test(t) && (afterHost || tool === 'nc')) return { known: true, host: false }; // a port
  if (tool === 'httpie' && !sawUrl && /^[A-Z]{3,7}$/.test(t)) return { known: true, host: false }; // the method
  if (tool === 'httpie' && sawUrl && (/[=@]/.test(t) || /^[A-Za-z0-9_-]+:/.test(t))) return { known: true, host: false };
  const bare = t.slice(0, t.search(/[/\\?#]|$/)).toLowerCase();
  const m = PLAIN_HOST.exec(bare);
  if (m === null) return { known: false, host: false };
  hosts.push(m[1]!);
  return { known: true, host: true };
}

/** True when the command line reaches at least one host and every destination on it is allowed. */
export function commandAllowed(text: string, allowed: readonly string[]): boolean {
  const d = commandDestinations(text);
  return !d.unknown && d.hosts.length > 0 && d.hosts.every((h) => hostAllowed(h, allowed));
}
