import type { Agent, Tool } from '../domain/index.js';

/** What the checkpoint needs to know about tools and agents; the registry's word beats the caller's. */
export interface RegistryPort {
  /** The registered tool, or undefined when the registry does not know it. */
  findTool(server: string, name: string): Promise<Tool | undefined>;
  /** The registered agent, or undefined when the registry does not know it. */
  findAgent(id: string): Promise<Agent | undefined>;
}
