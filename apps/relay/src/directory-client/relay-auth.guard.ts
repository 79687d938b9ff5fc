import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedDevice } from '@sealpost/contracts';
import { hashBearerToken } from '@sealpost/crypto';
import { unauthorized } from '@sealpost/http';
import { DirectoryClient } from './directory-client.service';

type RelayRequest = FastifyRequest & { device?: AuthenticatedDevice | null };

/** Resolves a bearer token (by its hash, via the directory) to a device; an absent token leaves `device` null. */
export async function deviceFromAuthorization(
  header: unknown,
  directory: DirectoryClient,
): Promise<AuthenticatedDevice | null | 'invalid'> {
  if (header === undefined) return null;
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9+/=]{1,128})$/i.exec(header) : null;
  const hash = match ? hashBearerToken(match[1]) : null;
  if (!hash) return 'invalid';
  return (await directory.authenticate(hash.toString('base64'))) ?? 'invalid';
}

/**
 * Sends may be identified (bearer token) or sealed (no Authorization, an Unidentified-Access-Key
 * instead); the guard refuses only a token that is present and wrong.
 */
@Injectable()
export class OptionalDeviceAuthGuard implements CanActivate {
  constructor(private readonly directory: DirectoryClient) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RelayRequest>();
    const device = await deviceFromAuthorization(request.headers.authorization, this.directory);
    if (device === 'invalid') throw unauthorized();
    request.device = device;
    return true;
  }
}

export const OptionalDevice = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedDevice | null => context.switchToHttp().getRequest<RelayRequest>().device ?? null,
);
