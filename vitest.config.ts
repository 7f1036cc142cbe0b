import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    setupFiles: ['test/support/setup.ts'],
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
