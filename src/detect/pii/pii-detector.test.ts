import { describe, expect, it } from 'vitest';
import { createDetectorSet } from '../detector-set.js';
import type { ScanInput } from '../detector.js';
import { rawView } from '../normalize/text-view.js';
import { createPiiDetector } from './pii-detector.js';

const set = createDetectorSet({ detectors: ['pii'] });

/** The spans of one type the PII detector reports in `text`, as the substrings they cover. */
const found = (text: string, type: string) =>
  set
    .scanText(text, 'prompt')
    .findings.filter((f) => f.type === type)
    .map((f) => text.slice(f.start, f.end));

describe('PII detector: PHONE_NUMBER', () => {
  it('finds formatted numbers the library validates, with extensions and trunk prefixes', () => {
    expect(found('Call +1 415-555-2671 or (415) 555-2671 ext 12 today.', 'PHONE_NUMBER')).toEqual(['+1 415-555-2671', '(415) 555-2671 ext 12']);
    expect(found('Fax: +41 (0)62 585 51 90', 'PHONE_NUMBER')).toEqual(['+41 (0)62 585 51 90']);
  });

  it('finds a number the card pattern saw first, once it fails the card checks', () => {
    // Four digits and a group read as a card candidate; after "call" they are a phone number.
    expect(found('Can someone call me on 9472 7916? Thanks.', 'PHONE_NUMBER')).toEqual(['9472 7916']);
    expect(found('phone:\n0393 1144137\n', 'PHONE_NUMBER')).toEqual(['0393 1144137']);
  });

  it('after a phone word, reports well-formed numbers the library rejects, and bare digit runs', () => {
    expect(found('Desk: +1-903-140-4508x769', 'PHONE_NUMBER')).toEqual(['+1-903-140-4508x769']);
    expect(found('Desk: 5403926876', 'PHONE_NUMBER')).toEqual(['5403926876']);
    expect(found('(37) 788-063-Office', 'PHONE_NUMBER')).toEqual(['(37) 788-063']);
  });

  it('does not read house numbers, postcodes, ids and dates as phone numbers', () => {
    expect(found('Mrs. Jennifer Alcaraz Suite 541 6343 Skogstien 106', 'PHONE_NUMBER')).toEqual([]);
    expect(found('The restaurant is located at 704 1436 Redbud Drive', 'PHONE_NUMBER')).toEqual([]);
    expect(found('My zip code is 90010-170', 'PHONE_NUMBER')).toEqual([]);
    expect(found("My driver's license number is F162823540116", 'PHONE_NUMBER')).toEqual([]);
    expect(found('Order 5403926876 shipped on 2026-11-24.', 'PHONE_NUMBER')).toEqual([]);
  });

  it('keeps a valid card number a card', () => {
    expect(found('Card 4111 1111 1111 1111, call 415-555-2671', 'CREDIT_CARD')).toEqual(['4111 1111 1111 1111']);
    expect(found('Card 4111 1111 1111 1111, call 415-555-2671', 'PHONE_NUMBER')).toEqual(['415-555-2671']);
  });
});

describe('PII detector: a number before PII', () => {
  /** Every finding in `text` as [type, substring, start, end]. */
  const all = (text: string) => set.scanText(text, 'prompt').findings.map((f) => [f.type, text.slice(f.start, f.end), f.start, f.end]);

  it('finds the SSN, card or IP address a phone or card candidate starting at an earlier number swallowed', () => {
    // Table and CSV rows: a zip code, an id or a year stands before the PII, and the failed candidate started there.
    expect(all('90210 536-22-1234')).toEqual([['US_SSN', '536-22-1234', 6, 17]]);
    expect(all('emp 00042 536-22-1234 active')).toEqual([['US_SSN', '536-22-1234', 10, 21]]);
    expect(all('2024 4111 1111 1111 1111')).toEqual([['CREDIT_CARD', '4111 1111 1111 1111', 5, 24]]);
    expect(all('12345 4111 1111 1111 1111')).toEqual([['CREDIT_CARD', '4111 1111 1111 1111', 6, 25]]);
    expect(all('0042 192.168.1.20')).toEqual([['IP_ADDRESS', '192.168.1.20', 5, 17]]);
    expect(all('id 7 | 00042 192.168.1.20 | 90210 536-22-1234')).toEqual([
      ['IP_ADDRESS', '192.168.1.20', 13, 25],
      ['US_SSN', '536-22-1234', 34, 45],
    ]);
  });

  it('keeps the spans of numbers that are one number, and takes no phone number out of a longer one', () => {
    expect(found('Desk: +41 (0)96 471 07 95', 'PHONE_NUMBER')).toEqual(['+41 (0)96 471 07 95']);
    expect(found('Card 4111 1111 1111 1111, call 415-555-2671', 'CREDIT_CARD')).toEqual(['4111 1111 1111 1111']);
    // A French number in dots holds an IP address's shape after its first group; a number in groups holds a shorter one.
    expect(all('Mobile: 03.93.92.16.85')).toEqual([]);
    expect(all('I would like to stop receiving messages to 0688 872 49 99')).toEqual([]);
  });
});

describe('PII detector: PERSON', () => {
  it('reports names with their exact spans, next to the other types', () => {
    const text = 'Hi Dana, this is Dr. Kyle Kuefer (kyle@example.com).';
    const f = set.scanText(text, 'prompt').findings.filter((x) => x.type === 'PERSON');
    expect(f.map((x) => [text.slice(x.start, x.end), x.start, x.end])).toEqual([
      ['Dana', 3, 7],
      ['Kyle Kuefer', 21, 32],
    ]);
    expect(found(text, 'EMAIL_ADDRESS')).toEqual(['kyle@example.com']);
  });

  it('is off when the option says so', () => {
    const off = createDetectorSet({ detectors: ['pii'], pii: { person: false } });
    expect(off.scanText('Dr. Kyle Kuefer', 'prompt').findings).toEqual([]);
  });

  it('stays linear in the number of names next to the other findings', () => {
    // Each name was once checked against every finding before it. Times are compared, not bounded: 16x the
    // names takes about 16x the time when linear and about 256x when quadratic; the best of seven runs each,
    // interleaved, keeps a loaded machine (a GC pause, preemption) from tipping it.
    const detector = createPiiDetector();
    const input = (text: string): ScanInput => ({ raw: text, views: [rawView(text)], normalized: rawView(text), marks: [], source: 'prompt' });
    const small = input('x Nora, '.repeat(1_000));
    const large = input('x Nora, '.repeat(16_000));
    expect(detector.scan(large)).toHaveLength(16_000);
    let ts = Infinity;
    let tl = Infinity;
    for (let r = 0; r < 7; r++) {
      let t = performance.now();
      detector.scan(small);
      ts = Math.min(ts, performance.now() - t);
      t = performance.now();
      detector.scan(large);
      tl = Math.min(tl, performance.now() - t);
    }
    expect(tl / ts).toBeLessThan(80);
  });
});
