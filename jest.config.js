// Jest runs TypeScript through ts-jest with isolatedModules (type-checking happens once, in `tsc --noEmit`).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker that has grown past this is replaced after its current file. Without it each of the two
  // workers ends the run near 1 GB, and tearing that down takes longer than the 0.5 s Jest gives a
  // worker to exit: Jest then kills it and prints "A worker process has failed to exit gracefully",
  // though nothing leaked (every worker had already run its exit handlers).
  workerIdleMemoryLimit: '300MB',
  reporters: ['default', '<rootDir>/tests/helpers/summary-reporter.js'],
};
