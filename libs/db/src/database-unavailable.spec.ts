import { isDatabaseUnavailable, unavailabilityReason } from './database-unavailable';

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a restart (57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a crash restart (57P02)', { code: '57P02', message: 'terminating connection because of crash of another server process' }],
    ['a starting server (57P03)', { code: '57P03', message: 'the database system is starting up' }],
    ['statement_timeout (57014)', { code: '57014', message: 'canceling statement due to statement timeout' }],
    ['a connection exception (08006)', { code: '08006', message: 'connection failure' }],
    ['a refused socket', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a reset socket', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a pool acquire timeout', new Error('timeout exceeded when trying to connect')],
    ['a query_timeout', new Error('Query read timeout')],
  ])('recognises %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', { code: '23505', message: 'duplicate key value violates unique constraint' }],
    ['a syntax error', { code: '42601', message: 'syntax error at or near "SELEC"' }],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['a non-error', 'Connection terminated'],
  ])('does not take %s for an outage', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('names an outage by its code or the known text only, never the rest of the message', () => {
    expect(unavailabilityReason({ code: '57P01', message: 'x' })).toBe('57P01');
    expect(unavailabilityReason(new Error('Query read timeout for SELECT secret'))).toBe('Query read timeout');
  });
});
