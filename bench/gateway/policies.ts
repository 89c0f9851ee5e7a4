/**
 * A policy set of `rules` rules for the gateway bench: one allow for the measured tool, the rest
 * denies over other tools, and every 50th a conditional deny on the measured tool itself, so each
 * call runs a realistic handful of CEL conditions through the index.
 */
export function benchPolicies(rules: number): string {
  const lines = [
    'apiVersion: warden.dev/v1',
    'kind: ScopeSettings',
    'metadata: { scope: acme }',
    'spec: { defaultEffect: deny }',
    '---',
    'apiVersion: warden.dev/v1',
    'kind: Policy',
    'metadata: { name: bench, scope: acme }',
    'spec:',
    '  rules:',
    '    - { name: list, match: { actions: [tool.list] }, effect: allow }',
    '    - { name: echo, match: { actions: [tool.call], tools: ["*.echo"] }, effect: allow }',
  ];
  for (let i = 2; i < rules; i++) {
    if (i % 50 === 0) {
      lines.push(`    - { name: r${i}, match: { actions: [tool.call], tools: ["*.echo"] }, when: 'has(args.flag) && args.flag == "x${i}"', effect: deny }`);
    } else {
      lines.push(`    - { name: r${i}, match: { actions: [tool.call], tools: ["svc${i % 100}.op${i}*"], agents: ["agent-${i % 37}"] }, when: 'has(args.n) && args.n == ${i}', effect: deny }`);
    }
  }
  return `${lines.join('\n')}\n`;
}
