import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Readable, Writable } from 'node:stream';
import type { Gateway } from '../gateway-api.js';
import type { SessionIdentity } from '../ports.js';

/**
 * Serves one agent over stdio (the drop-in form) and resolves when the agent closes the stream.
 * Nothing else may write to `stdout` while this runs: it carries the protocol.
 */
export async function serveStdio(gateway: Pick<Gateway, 'connect'>, identity: SessionIdentity, io: { stdin?: Readable; stdout?: Writable } = {}): Promise<void> {
  const transport = new StdioServerTransport(io.stdin, io.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    (io.stdin ?? process.stdin).once('end', () => resolve());
  });
  await gateway.connect(transport, identity);
  await closed;
}
