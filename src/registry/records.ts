/** Where a registry entry stands: new entries start `pending`; `blocked` refuses every call. */
export type RegistryStatus = 'pending' | 'approved' | 'blocked';

/** An MCP server as the registry stores it. */
export interface ServerRecord {
  name: string;
  /** The scope the server was first discovered in; admin events about it are filed there. */
  scope: string;
  owner?: string | undefined;
  status: RegistryStatus;
  statusReason?: string | undefined;
  /** What the server said about itself at initialize (name, version) and how it is reached. */
  info: Record<string, unknown>;
  firstSeen: string;
  lastSeen: string;
}

/** A tool on a server as the registry stores it; `name` is the server's own name for it. */
export interface ToolRecord {
  server: string;
  name: string;
  owner?: string | undefined;
  risk?: 'low' | 'medium' | 'high' | 'critical' | undefined;
  capabilities: string[];
  classification?: string | undefined;
  /** MCP tool annotations (`readOnlyHint`, `destructiveHint`, …) as the server last sent them. */
  annotations: Record<string, unknown>;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  status: RegistryStatus;
  statusReason?: string | undefined;
  /** Hash of the approved (or first seen) definition; see `definitionHash`. */
  pinnedHash: string;
  /** Hash of the definition the server last served; differs from `pinnedHash` after a rug pull. */
  observedHash: string;
  firstSeen: string;
  lastSeen: string;
}

/** An agent identity as the registry stores it. */
export interface AgentRecord {
  id: string;
  kind?: string | undefined;
  owner?: string | undefined;
  status: 'active' | 'suspended';
  updatedAt: string;
}

/** How a put treats an existing row. */
export interface PutOptions {
  /**
   * Insert only, in one statement: a row another process wrote since this one looked is kept (the
   * registry file import must never overwrite an operator's block made in between). @default false
   */
  ifAbsent?: boolean;
  /**
   * Replace only while the stored row still has these values of the fields that decide (status, and
   * for tools the pinned and observed hashes): a compare-and-swap, so a block another process wrote
   * since this one read the row is never overwritten. An absent row is inserted.
   */
  unchangedFrom?: { status: RegistryStatus; pinnedHash?: string; observedHash?: string };
}

/** Persistence the registry needs; the store implements it, `createMemoryRegistryRepo` too. */
export interface RegistryRepo {
  getServer(name: string): Promise<ServerRecord | undefined>;
  listServers(): Promise<ServerRecord[]>;
  /** Inserts or replaces a server; with `ifAbsent`, inserts only (an existing row is left as it is). Resolves whether it wrote. */
  putServer(server: ServerRecord, opts?: PutOptions): Promise<boolean>;
  getTool(server: string, name: string): Promise<ToolRecord | undefined>;
  /** Tools ordered by server, then name; all servers when `server` is undefined. */
  listTools(filter?: { server?: string | undefined; status?: RegistryStatus | undefined }): Promise<ToolRecord[]>;
  /** Inserts or replaces a tool (its server must exist); `ifAbsent` as for servers. */
  putTool(tool: ToolRecord, opts?: PutOptions): Promise<boolean>;
  getAgent(id: string): Promise<AgentRecord | undefined>;
  listAgents(): Promise<AgentRecord[]>;
  putAgent(agent: AgentRecord, opts?: PutOptions): Promise<boolean>;
  /** The same store over another tenant's rows. */
  forTenant?(tenantId: string): RegistryRepo;
}
