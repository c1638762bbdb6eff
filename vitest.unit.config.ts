import { configDefaults, defineConfig } from 'vitest/config';

// Unit tests run on whatever machine runs `npm test`, often a busy two-core one: the CPU-heavy
// files (thousands of generated reconcile cases, 50,000-entry batches) take a few seconds alone
// and several times that under load, so the limit is generous rather than vitest's 5 s. No test
// here asserts speed.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    // a step of its own in `npm test`, after the kernel suite (vitest.platform.config.ts)
    exclude: [...configDefaults.exclude, 'test/unit/package-platforms.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
