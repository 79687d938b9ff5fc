import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { DirectoryConfig } from '@sealpost/config';
import {
  AuthenticatedDevice,
  ClaimBundlesReply,
  DeviceListReply,
  DirectoryPattern,
  ValidationError,
  parseAddress,
  parseDeviceSelector,
} from '@sealpost/contracts';
import { sha256 } from '@sealpost/crypto';
import { ApiError, busErrorFrom } from '@sealpost/http';
import { DevicesRepository } from '../devices/devices.repository';
import { DeviceLastSeenRecorder } from '../devices/device-last-seen.recorder';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KeysManager } from '../keys/keys-manager.service';
import { UnidentifiedAccessKeyVault } from '../accounts/unidentified-access-key.vault';

/** Answers the other services of this homeserver over the Redis transport; errors travel as values. */
@Controller()
export class DirectoryBusController {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly keys: KeysManager,
    private readonly lastSeen: DeviceLastSeenRecorder,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    private readonly accessKeys: UnidentifiedAccessKeyVault,
  ) {}

  /** A round trip for callers' readiness (the relay's /healthz): answered as soon as the bus hears it. */
  @MessagePattern(DirectoryPattern.Ping)
  ping(): { ok: true } {
    return { ok: true };
  }

  @MessagePattern(DirectoryPattern.DeviceList)
  async deviceList(@Payload() request: { address?: unknown }): Promise<DeviceListReply | null> {
    const address = parseAddress(request?.address);
    if (address.server !== this.config.serverName) return null;
    const list = await this.devices.deviceListByLocalpart(address.localpart);
    if (!list) return null;
    // Only the SHA-256 of the opened key crosses the bus (the relay compares it in constant time).
    const accessKey = this.accessKeys.open(address.localpart, list.unidentifiedAccessKeySealed);
    return {
      address: `${address.localpart}@${address.server}`,
      accountId: list.accountId,
      identityKey: list.identityKey.toString('base64'),
      devices: list.devices,
      unidentifiedAccessKeyHash: accessKey ? sha256(accessKey).toString('base64') : null,
    };
  }

  /** For the relay (a socket or a send): which device a bearer token belongs to, by the token's SHA-256 only. */
  @MessagePattern(DirectoryPattern.Authenticate)
  async authenticate(@Payload() request: { tokenHash?: unknown }): Promise<AuthenticatedDevice | null> {
    if (typeof request?.tokenHash !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(request.tokenHash)) return null;
    const device = await this.devices.findPrincipalByTokenHash(Buffer.from(request.tokenHash, 'base64'));
    if (device) this.lastSeen.seen(device.accountId, device.deviceId);
    return device && { accountId: device.accountId, deviceId: device.deviceId, address: `${device.localpart}@${this.config.serverName}` };
  }

  @MessagePattern(DirectoryPattern.ClaimBundles)
  async claimBundles(@Payload() request: { address?: unknown; deviceId?: unknown; requester?: unknown }): Promise<ClaimBundlesReply> {
    try {
      const address = parseAddress(request?.address);
      if (address.server !== this.config.serverName) throw new ApiError(404, 'not_found', 'not a local address');
      const deviceId = parseDeviceSelector(String(request?.deviceId));
      if (typeof request?.requester !== 'string' || request.requester.length === 0 || request.requester.length > 300) {
        throw new ValidationError('requester', 'must name who asks');
      }
      return await this.keys.claim(request.requester, address, deviceId);
    } catch (error) {
      return busErrorFrom(error);
    }
  }
}
