/** Two projects: fast unit specs beside the code, and integration/e2e specs against real Postgres and Redis. */
const swc = ['@swc/jest', { ...require('./swc-jest.config') }];
const moduleNameMapper = {
  '^@sealpost/(config|contracts|crypto|db|http|bus|redis|http-signatures|transparency|client|loadtest)$': '<rootDir>/libs/$1/src/index.ts',
};
const common = { rootDir: __dirname, transform: { '^.+\\.ts$': swc }, moduleNameMapper, testEnvironment: 'node' };

module.exports = {
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.integration-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      setupFiles: ['<rootDir>/test/setup/test-env.ts'],
    },
  ],
};
