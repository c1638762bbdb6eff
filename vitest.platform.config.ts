import { defineConfig } from 'vitest/config';

// The packed tarball on every platform it ships for (test/unit/package-platforms.test.ts): a step
// of its own in `npm test`, after the kernel suite, because it needs all four prebuilds, which
// scripts/test.mjs builds in the background on the CPU the VM leaves free while the kernel suite
// runs (on a new machine zig compiles its C++ library once per target: minutes of CPU).
export default defineConfig({
  test: {
    include: ['test/unit/package-platforms.test.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
