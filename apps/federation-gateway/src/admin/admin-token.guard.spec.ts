import type { ExecutionContext } from '@nestjs/common';
import { loadGatewayConfig } from '@sealpost/config';
import { ApiError } from '@sealpost/http';
import { AdminTokenGuard } from './admin-token.guard';

const TOKEN = 'admin-token-for-the-guard-spec';

function contextWith(authorization: string | undefined): ExecutionContext {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function statusOf(guard: AdminTokenGuard, authorization: string | undefined): number {
  try {
    return guard.canActivate(contextWith(authorization)) ? 200 : 403;
  } catch (error) {
    return (error as ApiError).getStatus();
  }
}

/** Issue 9, defect 9: the admin endpoint answers only to `Authorization: Bearer <ADMIN_TOKEN>`. */
describe('AdminTokenGuard', () => {
  const guard = new AdminTokenGuard(loadGatewayConfig({ ADMIN_TOKEN: TOKEN }));

  it('admits the token under the Bearer scheme (scheme name case-insensitive)', () => {
    expect(statusOf(guard, `Bearer ${TOKEN}`)).toBe(200);
    expect(statusOf(guard, `bearer ${TOKEN}`)).toBe(200);
  });

  it('refuses the bare token, another scheme, a wrong token and no header with 401', () => {
    expect(statusOf(guard, TOKEN)).toBe(401);
    expect(statusOf(guard, `Basic ${TOKEN}`)).toBe(401);
    expect(statusOf(guard, `Bearer ${TOKEN}x`)).toBe(401);
    expect(statusOf(guard, `Bearer  ${TOKEN}`)).toBe(401);
    expect(statusOf(guard, undefined)).toBe(401);
  });

  it('is 404 when no ADMIN_TOKEN is configured', () => {
    expect(statusOf(new AdminTokenGuard(loadGatewayConfig({})), `Bearer ${TOKEN}`)).toBe(404);
  });
});
