import { defineConfig } from 'vitest/config';

// The short decoder-fuzzing run (test/fuzz/short.test.ts): a step of its own in `npm test`, after
// the unit suite, so that its minute of CPU on a busy machine does not compete with unit files.
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.test.ts'],
    environment: 'node',
    testTimeout: 600_000,
  },
});
