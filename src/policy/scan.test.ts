import { describe, expect, it } from 'vitest';
import type { Finding } from '../domain/index.js';
import { mandatedFindings, resolveScan, type ScanMandateEntry } from './scan.js';

const entry = (policy: string, scope: string, spec: ScanMandateEntry['spec'], excludes: string[] = []): ScanMandateEntry => ({ policy, scopes: [scope], excludes, spec });
const phone: Finding = { category: 'pii', type: 'PHONE_NUMBER', score: 0.85, severity: 'high', start: 0, end: 12, detector: 'warden.pii', evidence: '+1…' };

describe('scan mandate', () => {
  it('takes the lowest threshold, and a category enabled without one counts as its floor', () => {
    const org = entry('org', 'acme', { detectors: ['pii'], redact: ['pii'] });
    const team = entry('team', 'acme/team', { detectors: ['pii'], thresholds: { pii: 0.95 } });
    const m = resolveScan([org, team], 'acme/team/app')!;
    // The team's higher bar must not hide a phone number the org policy asks to redact.
    expect(m.thresholds.pii).toBe(0);
    expect(mandatedFindings(m, [phone])).toEqual([phone]);
    expect([...m.redact]).toEqual(['pii']);
    // Where only the team policy applies, its bar holds.
    const teamOnly = resolveScan([team], 'acme/team/app')!;
    expect(teamOnly.thresholds.pii).toBe(0.95);
    expect(mandatedFindings(teamOnly, [phone])).toEqual([]);
  });

  it('a threshold for a category the policy does not enable still counts; excluded scopes contribute nothing', () => {
    const strict = entry('strict', 'acme', { detectors: ['secret'], thresholds: { pii: 0.9 } });
    const pii = entry('pii', 'acme', { detectors: ['pii'], thresholds: { pii: 0.7 } }, ['acme/lab']);
    expect(resolveScan([strict, pii], 'acme/x')!.thresholds).toMatchObject({ pii: 0.7, secret: 0 });
    expect(resolveScan([strict, pii], 'acme/lab/y')!.thresholds).toEqual({ pii: 0.9, secret: 0 });
    expect(resolveScan([strict, pii], 'other')).toBeUndefined();
  });

  it('keeps only the categories some policy enables', () => {
    const m = resolveScan([entry('s', 'acme', { detectors: ['secret'] })], 'acme')!;
    expect(mandatedFindings(m, [phone])).toEqual([]);
  });
});
