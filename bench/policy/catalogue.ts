import type { ConditionId, ToolSpec } from './model.js';

/** Roles a principal may hold in a project. */
export const ROLES = ['developer', 'maintainer', 'analyst', 'operator', 'viewer', 'auditor'] as const;

/** The tools agents call; risk is fixed per tool, as a registry would pin it. */
export const TOOLS: readonly ToolSpec[] = [
  { server: 'shell', name: 'shell.run', risk: 'high' },
  { server: 'shell', name: 'shell.exec', risk: 'critical' },
  { server: 'git', name: 'git.read', risk: 'low' },
  { server: 'git', name: 'git.push', risk: 'medium' },
  { server: 'deploy', name: 'deploy.release', risk: 'high' },
  { server: 'deploy', name: 'deploy.rollback', risk: 'high' },
  { server: 'deploy', name: 'deploy.status', risk: 'low' },
  { server: 'db', name: 'db.query', risk: 'medium' },
  { server: 'db', name: 'db.exec', risk: 'high' },
  { server: 'db', name: 'db.read', risk: 'low' },
  { server: 'fs', name: 'fs.read', risk: 'low' },
  { server: 'fs', name: 'fs.write', risk: 'medium' },
  { server: 'fs', name: 'fs.delete', risk: 'high' },
  { server: 'http', name: 'http.get', risk: 'low' },
  { server: 'http', name: 'http.post', risk: 'medium' },
  { server: 'k8s', name: 'k8s.get', risk: 'low' },
  { server: 'k8s', name: 'k8s.exec', risk: 'critical' },
  { server: 'k8s', name: 'k8s.apply', risk: 'high' },
  { server: 'search', name: 'search.web', risk: 'low' },
  { server: 'search', name: 'search.docs', risk: 'low' },
  { server: 'docs', name: 'docs.read', risk: 'low' },
  { server: 'tickets', name: 'tickets.create', risk: 'low' },
  { server: 'tickets', name: 'tickets.list', risk: 'low' },
  { server: 'secrets', name: 'secrets.get', risk: 'critical' },
  // A name without a dot: the index keys it by its whole name.
  { server: 'demo', name: 'echo', risk: 'low' },
];

/** Tool globs by intent; `*` matches any run of characters, dots included, in both engines. */
export const GLOBS = {
  dangerous: ['shell.*', '*.exec', 'k8s.exec', 'fs.delete', 'secrets.*', 'http.post'],
  readOnly: ['*.read*', '*.get', '*.list', 'search.*', 'docs.*', 'deploy.status', 'echo'],
  work: ['git*', 'db.query', 'fs.*', 'tickets.*', 'http.*', 'k8s.*', 'shell.*', 'deploy.*', 'db.*', '*.read'],
  approval: ['deploy.*', 'db.exec', 'k8s.apply', 'fs.delete', 'secrets.get'],
} as const;

/**
 * Every condition the generator uses, spelled in CEL (Warden) and in Cedar side by side, so the
 * translation can be reviewed in one place. None of them can fail at run time on a generated
 * action (`has()` guards the optional `args.environment`; `tool.risk` is always set), because
 * Warden fails closed on an erroring deny rule while Cedar skips an erroring policy.
 */
export const CONDITIONS: Record<ConditionId, { cel: string; cedar: string }> = {
  'off-hours': { cel: 'context.hour < 8 || context.hour >= 20', cedar: 'context.hour < 8 || context.hour >= 20' },
  'business-hours': { cel: 'context.hour >= 8 && context.hour < 20', cedar: 'context.hour >= 8 && context.hour < 20' },
  weekend: {
    cel: 'context.weekday == "saturday" || context.weekday == "sunday"',
    cedar: 'context.weekday == "saturday" || context.weekday == "sunday"',
  },
  production: {
    cel: 'has(args.environment) && args.environment == "production"',
    cedar: 'context.args has environment && context.args.environment == "production"',
  },
  'not-production': {
    cel: '!has(args.environment) || args.environment != "production"',
    cedar: '!(context.args has environment) || context.args.environment != "production"',
  },
  'high-risk': { cel: 'tool.risk == "high" || tool.risk == "critical"', cedar: 'resource.risk == "high" || resource.risk == "critical"' },
  'production-or-high-risk': {
    cel: 'tool.risk == "high" || (has(args.environment) && args.environment == "production")',
    cedar: 'resource.risk == "high" || (context.args has environment && context.args.environment == "production")',
  },
};

/** Values of `args.environment`; `undefined` means the argument is absent. */
export const ENVIRONMENTS: readonly { value: string | undefined; weight: number }[] = [
  { value: 'production', weight: 3 },
  { value: 'staging', weight: 3 },
  { value: 'dev', weight: 2 },
  { value: undefined, weight: 2 },
];
