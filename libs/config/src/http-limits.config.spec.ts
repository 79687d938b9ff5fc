import { loadGatewayConfig } from './gateway.config';
import { DEFAULT_HTTP_LIMITS, largeBodyShare } from './http-limits.config';
import { loadRelayConfig } from './relay.config';

describe('HTTP limits: body bytes in flight', () => {
  it('the default budget leaves room in its large-body share for the largest body of every service', () => {
    expect(loadRelayConfig({}).http).toMatchObject({ maxBodyBytesInFlight: 64 * 1024 * 1024, bodyIdleTimeoutMs: 5000 });
    const gateway = loadGatewayConfig({});
    expect(gateway.federationLimits.maxBatchBodyBytes).toBeLessThanOrEqual(largeBodyShare(DEFAULT_HTTP_LIMITS));
  });

  it('a body limit above three quarters of the budget is refused at start-up, naming the variable to raise', () => {
    expect(() => loadRelayConfig({ HTTP_MAX_BODY_BYTES_IN_FLIGHT: String(4 * 1024 * 1024) })).toThrow(
      /RELAY_MAX_BODY_BYTES \(4194304\) must not be above three quarters of HTTP_MAX_BODY_BYTES_IN_FLIGHT/,
    );
    expect(() => loadGatewayConfig({ HTTP_MAX_BODY_BYTES_IN_FLIGHT: String(32 * 1024 * 1024) })).toThrow(/FEDERATION_MAX_BATCH_BODY_BYTES/);
  });
});
