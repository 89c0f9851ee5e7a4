import { processIo } from '../main/process-io.js';
import { runCli } from './program.js';

// The process entry: the only place that touches process.exit.
process.exitCode = await runCli(process.argv.slice(2), processIo());
