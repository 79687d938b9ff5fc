import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { hashBearerToken } from '@sealpost/crypto';
import { unauthorized } from '@sealpost/http';
import { DevicePrincipal, DevicesRepository } from '../devices/devices.repository';
import { DeviceLastSeenRecorder } from '../devices/device-last-seen.recorder';

type AuthenticatedRequest = FastifyRequest & { device?: DevicePrincipal };

/**
 * Admits a request whose `Authorization: Bearer <token>` hashes to a current device's token hash.
 * Looked up on every request, so a removed device's token stops working at once.
 */
@Injectable()
export class DeviceAuthGuard implements CanActivate {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly lastSeen: DeviceLastSeenRecorder,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9+/=]{1,128})$/i.exec(header) : null;
    const hash = match ? hashBearerToken(match[1]) : null;
    if (!hash) throw unauthorized();
    const device = await this.devices.findPrincipalByTokenHash(hash);
    if (!device) throw unauthorized();
    this.lastSeen.seen(device.accountId, device.deviceId);
    request.device = device;
    return true;
  }
}

/** The device that authenticated this request (use with DeviceAuthGuard). */
export const CurrentDevice = createParamDecorator((_: unknown, context: ExecutionContext): DevicePrincipal => {
  const device = context.switchToHttp().getRequest<AuthenticatedRequest>().device;
  if (!device) throw unauthorized();
  return device;
});
