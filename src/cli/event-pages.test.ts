import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../domain/index.js';
import { allEvents } from './event-pages.js';
import { printable, printableLines } from './io.js';

const ev = (n: number) => ({ id: String(n) }) as unknown as AuditEvent;

describe('paging the events API', () => {
  it('stops with an error when a server repeats a cursor, instead of reading forever', async () => {
    let calls = 0;
    const list = async () => {
      calls++;
      return { events: [ev(calls)], nextCursor: 'same' };
    };
    const seen: AuditEvent[] = [];
    await expect(
      (async () => {
        for await (const e of allEvents(list, {}, 10)) seen.push(e);
      })(),
    ).rejects.toThrow('repeated a page cursor');
    expect(calls).toBe(2);
  });

  it('takes no more than a page from a server that sends more', async () => {
    const list = async () => ({ events: Array.from({ length: 50 }, (_, i) => ev(i)), nextCursor: null });
    const seen: AuditEvent[] = [];
    for await (const e of allEvents(list, {}, 10)) seen.push(e);
    expect(seen).toHaveLength(10);
  });
});

describe('text from elsewhere on a terminal', () => {
  it('escapes control characters, bidi overrides and OSC sequences, keeping the lines of human output', () => {
    expect(printable('scope=\u001b]0;pwned\u0007\u001b[2J')).toBe('scope=\\u001b]0;pwned\\u0007\\u001b[2J');
    expect(printable('a\u202eb')).toBe('a\\u202eb');
    expect(printableLines('one\u001b[31m\ntwo\r')).toBe('one\\u001b[31m\ntwo\\u000d');
  });
});
