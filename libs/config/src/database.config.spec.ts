import { DEFAULT_DATABASE_TIMEOUTS, readDatabaseTimeouts } from './database.config';
import { ConfigError, EnvReader } from './env-reader';
import { loadGatewayConfig } from './gateway.config';

const read = (env: Record<string, string>) => {
  const reader = new EnvReader(env);
  return reader.finish(readDatabaseTimeouts(reader, 'RELAY'));
};

describe('readDatabaseTimeouts', () => {
  it('has bounded defaults', () => {
    expect(read({})).toEqual(DEFAULT_DATABASE_TIMEOUTS);
  });

  it('reads DB_* for every service and lets <SERVICE>_DB_* override them', () => {
    expect(read({ DB_QUERY_TIMEOUT_MS: '9000', DB_STATEMENT_TIMEOUT_MS: '3000', RELAY_DB_QUERY_TIMEOUT_MS: '4000' })).toMatchObject({
      statementTimeoutMs: 3000,
      queryTimeoutMs: 4000,
    });
  });

  it('refuses a query timeout not above the statement timeout, and a connect timeout of 0', () => {
    expect(() => read({ DB_STATEMENT_TIMEOUT_MS: '5000', DB_QUERY_TIMEOUT_MS: '5000' })).toThrow(
      /DB_QUERY_TIMEOUT_MS \(5000\) must be above/,
    );
    expect(() => read({ DB_CONNECT_TIMEOUT_MS: '0' })).toThrow(ConfigError);
  });

  it("keeps the gateway's idle-in-transaction timeout above its federation request timeout (a flush spans one request)", () => {
    expect(() => loadGatewayConfig({ FEDERATION_REQUEST_TIMEOUT_MS: '20000' })).toThrow(/must be above FEDERATION_REQUEST_TIMEOUT_MS/);
    expect(
      loadGatewayConfig({ FEDERATION_REQUEST_TIMEOUT_MS: '20000', GATEWAY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '30000' }).dbTimeouts
        .idleInTransactionTimeoutMs,
    ).toBe(30000);
  });
});
