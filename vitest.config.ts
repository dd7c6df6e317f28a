import { defineConfig } from 'vitest/config';

// Two projects: pure-logic unit tests, and integration tests that run against a real
// Kafka broker and a real S3-compatible server started by test/setup/global-setup.ts.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          setupFiles: ['test/setup/kafkajs-first.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One broker per run: files run one at a time so fault tests (kill -9, full disk)
          // do not disturb each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
