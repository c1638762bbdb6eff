import { defineConfig } from 'vitest/config';

// Kernel tests need root and a kernel with IPVS: scripts/test.mjs runs them directly on such a
// host, or inside the project's User-Mode Linux VM. The guest has one CPU and slow system calls,
// so files run one at a time and time-outs are generous.
export default defineConfig({
  test: {
    include: ['test/kernel/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
