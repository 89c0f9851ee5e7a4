import { describe, expect, it } from 'vitest';
import { findPersonNames } from './person-names.js';

/** The names found in `text`, as the substrings they cover. */
const names = (text: string) => findPersonNames(text).map((p) => text.slice(p.start, p.end));

describe('findPersonNames', () => {
  it('finds a given name and what follows it, with initials, particles and apostrophes', () => {
    const text = 'Please call Faina D. Yefremova tomorrow; Ludwig van Beethoven and Conan O\'Brien will join.';
    expect(findPersonNames(text).map((p) => [p.start, p.end])).toEqual([
      [12, 30],
      [41, 61],
      [66, 79],
    ]);
    expect(names(text)).toEqual(['Faina D. Yefremova', 'Ludwig van Beethoven', "Conan O'Brien"]);
  });

  it('starts a name at its given name, not at the capital before it', () => {
    expect(names('Blink-182 paid tribute. Producer Liviana Palerma explained it to Fuse TV.')).toEqual(['Liviana Palerma']);
    expect(names('Hello Laura Carvalho, welcome.')).toEqual(['Laura Carvalho']);
  });

  it('does not report common words that are also given names', () => {
    expect(names('Will you send it? Grant access to the repo. May I ask? Mark the box. Bill me later.')).toEqual([]);
    expect(names('The April release ships in May, Summer is near.')).toEqual([]);
    // ...unless a known surname follows.
    expect(names('I saw Will Smith yesterday.')).toEqual(['Will Smith']);
  });

  it('keeps the names of streets, towns and companies out', () => {
    expect(names('He lives at 12 Victor Hugo Street, near San Francisco.')).toEqual([]);
    expect(names('Ship it to Avenida Pedro Ulisses 888.')).toEqual([]);
    expect(names('Mrs. Barbara Yudina Apt. 675')).toEqual(['Barbara Yudina']);
  });

  it('does not read identifiers, addresses and URLs as names', () => {
    expect(names('Contact jane.doe@example.com or https://github.com/JohnSmith/repo; user.Name = getUserName();')).toEqual([]);
    expect(names('export AWS_ACCESS_KEY_ID=AKIAQ3EGRTYXZ6PLMNBV and TODO: FIXME')).toEqual([]);
  });

  it('takes anything after a title or "my name is", and only known names after weaker cues', () => {
    expect(names('Ms. Jones flew home. My name is Rubija Liberšar.')).toEqual(['Jones', 'Rubija Liberšar']);
    expect(names('a library called React')).toEqual([]);
    expect(names('the new intern is called Nora')).toEqual(['Nora']);
  });

  it('reads a sign-off, a title or "my name is" across one line break, and weaker cues only on the same line', () => {
    expect(names('Sincerely,\nTaro Yamada')).toEqual(['Taro Yamada']);
    expect(names('Best regards,\nAlex')).toEqual(['Alex']);
    expect(names('Kind regards,\r\n  Taro Yamada')).toEqual(['Taro Yamada']);
    expect(names('Dear\nTaro Yamada')).toEqual(['Taro Yamada']);
    expect(names('My name is\nTaro Yamada')).toEqual(['Taro Yamada']);
    expect(names('Sincerely,\n\nTaro Yamada')).toEqual([]);
    expect(names('he said\nTaro Yamada')).toEqual([]);
    expect(names('thanks\nAlex')).toEqual([]);
  });

  it('reports a lone given name only where a person is likely', () => {
    expect(names('Why is Nicole so impulsive?')).toEqual(['Nicole']);
    expect(names('Nora is very reliable.')).toEqual(['Nora']);
    expect(names('Ubul: hello\nNicole: Remember me?')).toEqual(['Nicole']);
    expect(names("As promised, here's Matej's address.")).toEqual(['Matej']);
    // A sentence's first word is capitalized anyway: without a verb after it, a name there proves nothing.
    expect(names('Nicole.')).toEqual([]);
  });

  it('finds a surname-shaped run without a known given name, and the name again where it stands alone', () => {
    expect(names('The coda was not by Ushurma Dratchev at all.')).toEqual(['Ushurma Dratchev']);
    expect(names("Verses from Emmie Ström's tales. Is there a better example than early Ström?")).toEqual(['Emmie Ström', 'Ström']);
  });

  it('finds nothing in text without capitals, and stays linear on long hostile input', () => {
    expect(findPersonNames('all lower case, no names here')).toEqual([]);
    const hostile = 'Ann '.repeat(50_000) + "O'".repeat(50_000) + 'A. '.repeat(50_000);
    const t = performance.now();
    findPersonNames(hostile);
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
