/** One schema change: plain SQL, applied once, in name order, inside its own transaction. */
export interface Migration {
  /** `NNN-name`; the number fixes the order and the name is recorded once applied. */
  name: string;
  sql: string;
}
