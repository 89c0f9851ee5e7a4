/**
 * Credentials named by their key: a field, a YAML or env line, an HTTP header or a query parameter whose
 * name says its value is a password, a token or an API key (`password`, `api_key`, `SecretAccessKey`,
 * `Authorization`, `X-Api-Key`), and look-alikes that are not (`password_policy`, `token_count`,
 * `secret_santa`, `next_page_token`, `primary_key`).
 */

/** How strongly a key names a credential: `strong` takes any real value, `weak` only a token-like one. */
export type CredentialKey = 'strong' | 'weak';

// The last word of the key decides; these words name a credential on their own.
const STRONG_WORDS = new Set(['password', 'passwords', 'passwd', 'pwd', 'passphrase', 'passcode', 'secret', 'secrets', 'apikey', 'token', 'credential', 'credentials', 'authorization', 'privatekey']);
// `key` names a credential only after one of these (`api_key`, `SecretAccessKey`, `x-api-key`), not after `primary`, `sort`, `public`.
const KEY_QUALIFIERS = new Set(['api', 'access', 'secret', 'private', 'auth', 'signing', 'encryption', 'master', 'client', 'app', 'account', 'subscription', 'service', 'admin', 'webhook', 'session', 'shared', 'license', 'server', 'consumer', 'developer', 'hmac', 'storage', 'sas', 'deploy', 'integration', 'bot']);
// Tokens that page or count rather than authenticate.
const NOT_CREDENTIAL_TOKENS = new Set(['page', 'next', 'prev', 'previous', 'continuation', 'cursor', 'sync', 'resume', 'max', 'num', 'count', 'total', 'input', 'output', 'completion', 'prompt']);
// Compounds written without separators (`dbpassword`, `apitoken`) end in one of these.
const STRONG_SUFFIXES = ['password', 'passwd', 'secret', 'token', 'apikey'];

/** The words of a key: split at `_`, `-`, `.`, spaces and camelCase (`SecretAccessKey` → secret access key, `APIKey` → api key). */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Whether `key` names a credential, and how strongly; undefined for any other key. */
export function credentialKey(key: string): CredentialKey | undefined {
  if (key.length === 0 || key.length > 64) return undefined;
  const words = keyWords(key);
  const last = words.at(-1);
  if (last === undefined) return undefined;
  const prev = words.at(-2);
  if (last === 'token' || last === 'tokens') return last === 'token' && !(prev !== undefined && NOT_CREDENTIAL_TOKENS.has(prev)) ? 'strong' : undefined;
  if (STRONG_WORDS.has(last)) return 'strong';
  if (last === 'key' || last === 'keys') return prev !== undefined && KEY_QUALIFIERS.has(prev) ? 'strong' : undefined;
  if (last === 'auth') return 'weak';
  if (words.length === 1 && STRONG_SUFFIXES.some((s) => last.endsWith(s) && last.length > s.length + 1)) return 'strong';
  return undefined;
}

const PLACEHOLDER =
  /^(?:[*•·x#._-]{3,}|0+|1+|a+|changeme|change[_-]?me|password|passwd|pass|pw|pwd|user|username|secret|token|example|sample|dummy|test|redacted|placeholder|none|null|nil|undefined|true|false|yes|no|n\/a|required|optional|hidden|masked|your[\w-]*|my[_-]?(?:password|secret|token|api[_-]?key)|<[^>]*>|\[[^\]]*\]|\$\{[^}]*\}|\{\{[^}]*\}\}|%\w+%|\$\w+|(?:process\.env|os\.environ|env|vault|secrets?)[.:[][\w\]."'-]*)$/i;

/**
 * The credential in a value stored under a credential key, as [start, end) inside `value`, or undefined
 * when the value is empty, masked, a placeholder or a reference (`${API_KEY}`, `<your-api-key>`,
 * `********`, `process.env.X`), or prose (`This field is required.`). An `Authorization` value loses
 * its scheme (`Bearer`, `Basic`, …). A `weak` key needs a token-like value (8+ chars, no spaces, two
 * kinds of chars).
 */
export function credentialValue(value: string, strength: CredentialKey): readonly [number, number] | undefined {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) <= 32) start++;
  while (end > start && value.charCodeAt(end - 1) <= 32) end--;
  const scheme = /^(?:bearer|basic|token|digest|bot|apikey|key)\s+/i.exec(value.slice(start, Math.min(end, start + 16)));
  if (scheme) start += scheme[0].length;
  const v = value.slice(start, end);
  if (v.length < 4 || v.length > 4096 || PLACEHOLDER.test(v)) return undefined;
  // A URL (a reset link, an endpoint) or a version (`"pbkdf2-password": "1.2.1"` in package.json) is not the credential.
  if (v.includes('://') || /^[\^~>=<v]*\d+(?:\.[\dx*]+)+(?:[-+][\w.]+)?$/.test(v)) return undefined;
  if (/\s/.test(v)) {
    // A passphrase has a few words; a sentence (a validation message, a hint) is not a credential.
    const words = v.split(/\s+/).length;
    if (scheme || strength === 'weak' || words > 5 || /[.!?:]$/.test(v) || /,\s/.test(v)) return undefined;
  }
  if (strength === 'weak' && (v.length < 8 || kinds(v) < 2)) return undefined;
  return [start, end];
}

function kinds(s: string): number {
  return Number(/[a-z]/.test(s)) + Number(/[A-Z]/.test(s)) + Number(/[0-9]/.test(s)) + Number(/[^A-Za-z0-9]/.test(s));
}

const KEY_CHAR = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 46;
const HINT = /pass|pwd|secret|token|key|auth|cred/i;

/** A `key: value` or `key=value` in text whose key names a credential: the key, and the value's span. */
export interface KeyedValue {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Every credential assigned in `text`: YAML and JSON (`password: …`, `"api_key": "…"`), env files and
 * shells (`DB_PASSWORD=…`, `export API_TOKEN=…`), HTTP headers (`X-Api-Key: …`,
 * `Authorization: Bearer …`) and query strings (`?api_key=…&`). Linear: one pass over the separators,
 * each looking back at most 64 chars for its key.
 */
export function keyedValues(text: string): KeyedValue[] {
  const out: KeyedValue[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 58 && c !== 61) continue;
    const nextC = text.charCodeAt(i + 1);
    // `==`, `::` and `://` are not assignments; `:=` and `=>` are.
    if ((c === 61 && nextC === 61) || (c === 58 && (nextC === 58 || nextC === 47)) || (i > 0 && (text.charCodeAt(i - 1) === 61 || text.charCodeAt(i - 1) === 33 || text.charCodeAt(i - 1) === 60 || text.charCodeAt(i - 1) === 62))) continue;
    let k = i - 1;
    while (k >= 0 && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9) && i - k < 4) k--;
    if (k >= 0 && (text.charCodeAt(k) === 34 || text.charCodeAt(k) === 39)) k--;
    const keyEnd = k + 1;
    while (k >= 0 && KEY_CHAR(text.charCodeAt(k)) && keyEnd - k <= 64) k--;
    if (k >= 0 && KEY_CHAR(text.charCodeAt(k))) continue;
    const key = text.slice(k + 1, keyEnd);
    if (key.length === 0 || !HINT.test(key)) continue;
    const strength = credentialKey(key);
    if (strength === undefined) continue;
    let v = i + 1;
    if (text.charCodeAt(v) === 61 || text.charCodeAt(v) === 62) v++;
    while (v < text.length && (text.charCodeAt(v) === 32 || text.charCodeAt(v) === 9) && v - i < 8) v++;
    const q = text.charCodeAt(v);
    let start = v;
    let end: number;
    let trailing = false;
    if (q === 34 || q === 39 || q === 96) {
      start = v + 1;
      end = start;
      while (end < text.length && end - start < 512 && text.charCodeAt(end) !== q && text.charCodeAt(end) !== 10) end++;
      if (text.charCodeAt(end) !== q) continue;
      let after = end + 1;
      while (after < text.length && (text.charCodeAt(after) === 32 || text.charCodeAt(after) === 9)) after++;
      // Words after the closing quote make it prose (``token: `start` and `end` ``), not an assignment.
      trailing = after > end + 1 && /[A-Za-z]/.test(text[after] ?? '');
    } else {
      // An unquoted reference or placeholder (`${API_KEY}`, `<token>`, `{{ secrets.X }}`, `%PASS%`, `[hidden]`).
      if (/[$<{%[]/.test(text[v] ?? '')) continue;
      end = start;
      // Unquoted: up to a space or a delimiter of the forms above (`&` of a query, `,` `;` `}` of inline code).
      while (end < text.length && end - start < 512 && !/[\s,;&"'<>)}\]]/.test(text[end]!)) end++;
      let after = end;
      while (after < text.length && (text.charCodeAt(after) === 32 || text.charCodeAt(after) === 9)) after++;
      // A value followed by more words on its line reads as prose (`password: must be at least 12 characters`).
      trailing = after < text.length && after > end && !/[\r\n#]/.test(text[after]!);
      // `Authorization: Bearer abc`: the scheme is followed by the credential.
      if (/^(?:bearer|basic|token|digest)$/i.test(text.slice(start, end)) && trailing) {
        if (/[$<{%[]/.test(text[after]!)) continue;
        end = after;
        while (end < text.length && end - after < 512 && !/[\s,;&"'<>)}\]]/.test(text[end]!)) end++;
        trailing = false;
      }
    }
    const value = text.slice(start, end);
    if (trailing && (value.length < 8 || kinds(value) < 2)) continue;
    // Unquoted code on the right-hand side (`getPassword()`, `user.password`, `config.token`) is not a value.
    if (q !== 34 && q !== 39 && q !== 96 && (/^[A-Za-z_$][A-Za-z_$.]*$/.test(value) || /^[A-Za-z_$][\w$.]*[([]/.test(value))) continue;
    const span = credentialValue(value, strength);
    if (span) out.push({ key, start: start + span[0], end: start + span[1] });
    i = Math.max(i, end - 1);
  }
  return out;
}

/**
 * Passwords in URL userinfo (`https://user:pass@host`, `redis://:pass@host`) as [start, end) spans of
 * `text`: the part between the `:` of the userinfo and its `@`, when it is not a placeholder or a port
 * number.
 */
export function userinfoPasswords(text: string): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  for (let at = text.indexOf('://'); at >= 0; at = text.indexOf('://', at + 3)) {
    const from = at + 3;
    let end = from;
    let lastAt = -1;
    while (end < text.length && end - from < 512 && !/[\s/?#"'<>\\]/.test(text[end]!)) {
      if (text.charCodeAt(end) === 64) lastAt = end;
      end++;
    }
    if (lastAt < 0) continue;
    const colon = text.indexOf(':', from);
    if (colon < 0 || colon >= lastAt) continue;
    const password = text.slice(colon + 1, lastAt);
    if (password.length < 3 || /^\d{1,5}$/.test(password) || PLACEHOLDER.test(password)) continue;
    out.push([colon + 1, lastAt]);
  }
  return out;
}
