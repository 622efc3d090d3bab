// Shared jest settings: ts-jest transpiles each file alone (tsconfig isolatedModules; type checking is
// `npm run typecheck`'s job), so tests start fast.
const path = require('node:path');

const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };

function unitProject(dir) {
  return {
    displayName: path.relative(__dirname, dir) || 'root',
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts'],
    transform,
  };
}

module.exports = { transform, unitProject };
