import { describe, expect, it } from 'vitest';
import { loadConfig, parseAuditCapture } from './config.js';

describe('audit capture setting', () => {
  it('is off unless asked, and the flag wins over the environment', () => {
    expect(loadConfig({ policies: ['p'] }, {}).auditCapture).toEqual({ args: false, results: false });
    expect(loadConfig({ policies: ['p'] }, { WARDEN_AUDIT_CAPTURE: 'results' }).auditCapture).toEqual({ args: false, results: true });
    expect(loadConfig({ policies: ['p'], auditCapture: 'args' }, { WARDEN_AUDIT_CAPTURE: 'results' }).auditCapture).toEqual({ args: true, results: false });
    expect(parseAuditCapture(' args , results ')).toEqual({ args: true, results: true });
    expect(parseAuditCapture('none')).toEqual({ args: false, results: false });
  });

  it('rejects an unknown body kind with a stable code instead of capturing nothing silently', () => {
    expect(() => parseAuditCapture('args,bodies')).toThrow(expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining('`bodies`') }));
  });
});
