import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers start here (redis-server, s3rver); the Docker probe alone may take ~1 s.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
