/**
 * The reliability suites (`npm run test:reliability`, run by .ci/run after `npm test`): faults,
 * bad input, secrets and access, against real services, Postgres and Redis. Slower than `npm test`.
 */
const base = require('./jest.config');
const integration = base.projects.find((p) => p.displayName === 'integration');

module.exports = {
  testTimeout: 600000,
  reporters: base.reporters,
  projects: [
    {
      ...integration,
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.reliability-spec.ts'],
    },
  ],
};
