import type { ScopeLevel } from './model.js';

/** Shape of the synthetic org: groups, subgroups per group, projects per subgroup. */
export interface OrgShape {
  root: string;
  groups: number;
  subgroupsPerGroup: number;
  projectsPerSubgroup: number;
}

/** The default shape: `acme` > 20 groups > 10 subgroups each > 50 projects each = 10 000 projects. */
export const DEFAULT_ORG_SHAPE: OrgShape = { root: 'acme', groups: 20, subgroupsPerGroup: 10, projectsPerSubgroup: 50 };

/** A scope hierarchy `org/group/subgroup/project`, every level listed in order. */
export interface Org {
  root: string;
  groups: readonly string[];
  subgroups: readonly string[];
  projects: readonly string[];
  /** Direct children of a scope (empty for a project). */
  childrenOf(scope: string): readonly string[];
  /** The scopes at one level. */
  atLevel(level: ScopeLevel): readonly string[];
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Builds the org: names are `acme/g01/s01/p001`, zero-padded so they sort naturally. */
export function buildOrg(shape: OrgShape = DEFAULT_ORG_SHAPE): Org {
  const children = new Map<string, string[]>();
  const groups: string[] = [];
  const subgroups: string[] = [];
  const projects: string[] = [];
  const add = (parent: string, child: string) => {
    const list = children.get(parent);
    if (list) list.push(child);
    else children.set(parent, [child]);
  };
  for (let g = 1; g <= shape.groups; g++) {
    const group = `${shape.root}/g${pad(g, 2)}`;
    groups.push(group);
    add(shape.root, group);
    for (let s = 1; s <= shape.subgroupsPerGroup; s++) {
      const subgroup = `${group}/s${pad(s, 2)}`;
      subgroups.push(subgroup);
      add(group, subgroup);
      for (let p = 1; p <= shape.projectsPerSubgroup; p++) {
        const project = `${subgroup}/p${pad(p, 3)}`;
        projects.push(project);
        add(subgroup, project);
      }
    }
  }
  const levels: Record<ScopeLevel, readonly string[]> = { org: [shape.root], group: groups, subgroup: subgroups, project: projects };
  return {
    root: shape.root,
    groups,
    subgroups,
    projects,
    childrenOf: (scope) => children.get(scope) ?? [],
    atLevel: (level) => levels[level],
  };
}

/** The scope and each ancestor, root first (`a/b/c` gives `a`, `a/b`, `a/b/c`). */
export function scopeChain(scope: string): string[] {
  const parts = scope.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
