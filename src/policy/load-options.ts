/** What the installation tells policy loading (lint and compile) beyond the documents themselves. */
export interface PolicyLoadOptions {
  /**
   * Hosts a status check URL may name although they are loopback, private or link-local addresses
   * (or `localhost`): exact host names or IP literals, compared case-insensitively (no subdomains).
   * A check URL on any other such host is the error `lint/check-private-address`, so a set naming
   * one does not load.
   * @default none
   */
  checkHosts?: readonly string[];
}
