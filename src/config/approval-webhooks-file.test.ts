import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApprovalWebhooks, parseApprovalWebhooks } from './approval-webhooks-file.js';

const doc = (name: string, extra = '') => `apiVersion: warden.dev/v1\nkind: ApprovalWebhook\nmetadata: { name: ${name}, scope: acme${extra} }\nspec: { url: "https://hooks.example.com/${name}", secretEnv: HOOK_SECRET }\n`;

describe('the approval webhooks file', () => {
  it('fills in the defaults (tenant `default`, format slack) and resolves each secret from the environment', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'warden-hooks-')), 'hooks.yaml');
    writeFileSync(file, `${doc('a')}---\n${doc('b', ', tenant: t-2')}`);
    expect(await loadApprovalWebhooks(file, { HOOK_SECRET: 's' })).toEqual([
      { name: 'a', tenant: 'default', scope: 'acme', url: 'https://hooks.example.com/a', secret: 's', format: 'slack' },
      { name: 'b', tenant: 't-2', scope: 'acme', url: 'https://hooks.example.com/b', secret: 's', format: 'slack' },
    ]);
    await expect(loadApprovalWebhooks(file, {})).rejects.toMatchObject({ code: 'config.invalid', message: expect.stringContaining('`HOOK_SECRET`') });
    await expect(loadApprovalWebhooks(join(file, 'missing'), {})).rejects.toMatchObject({ code: 'config.invalid' });
  });

  it('refuses a name used twice, an unknown field and another kind', () => {
    expect(() => parseApprovalWebhooks('f.yaml', `${doc('a')}---\n${doc('a')}`)).toThrow(/defined twice/);
    expect(() => parseApprovalWebhooks('f.yaml', doc('a').replace('secretEnv', 'secret'))).toThrow(/not a valid ApprovalWebhook/);
    expect(() => parseApprovalWebhooks('f.yaml', doc('a').replace('ApprovalWebhook', 'AuditDestination'))).toThrow(/not a valid ApprovalWebhook/);
  });
});
