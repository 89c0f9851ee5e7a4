import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files under test/ that start no process, server or database: they join the unit project.
 * Every other file under test/ is integration, so a new one lands there until it is listed here.
 */
const FAST_TEST_FILES = ['test/architecture.test.ts', 'test/gateway-result-batcher.test.ts', 'test/injection-docs.test.ts', 'test/build-if-stale.test.ts', 'test/engines.test.ts', 'test/deploy-files.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files mostly wait (on servers, databases, child processes), so one worker more than
    // a 2-core runner has keeps it busy and the full run inside CI's 20-minute budget.
    maxWorkers: 3,
    reporters: ['default', './test/support/summary-reporter.ts'],
    setupFiles: ['./test/support/property-seed.ts'],
    // `vitest run` runs both projects; `--project unit` or `--project integration` picks one.
    // Each project runs its files in parallel workers (vitest's default), as the single suite did.
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', ...FAST_TEST_FILES] } },
      // Integration tests spawn servers and databases; on a loaded 2-core runner one can take several
      // times its usual few seconds, so a hang is still caught but load alone does not fail a landing.
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...FAST_TEST_FILES], testTimeout: 90_000 } },
    ],
  },
});
