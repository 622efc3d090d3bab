// `npm test`: unit tests of every package, then the end-to-end scenarios against real Redis, Kafka and processes.
const { transform } = require('./jest.preset.js');
const packages = [
  'subgraphs/runtime',
  'schema',
  'subgraphs/tenant',
  'subgraphs/session',
  'subgraphs/answer',
  'subgraphs/knowledge',
  'subgraphs/inference',
  'subgraphs/handoff',
  'gateway',
  'clients/sdk',
  'clients/console',
  'clients/widget',
  'ops',
];

module.exports = {
  // A leaked handle must never hang CI; find leaks with `npx jest --detectOpenHandles`.
  forceExit: true,
  reporters: ['default', '<rootDir>/jest.summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: packages.map((p) => `<rootDir>/${p}/src`),
      testMatch: ['**/*.test.ts'],
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/ops/e2e'],
      testMatch: ['**/*.e2e.ts'],
      transform,
      globalSetup: '<rootDir>/ops/e2e/harness/global-setup.ts',
      globalTeardown: '<rootDir>/ops/e2e/harness/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/ops/e2e/harness/timeouts.ts'],
    },
  ],
};
