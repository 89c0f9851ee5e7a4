import { describe, expect, it } from 'vitest';
import { createDetectorSet } from '../detector-set.js';

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
});
