import { Body, Controller, Get, HttpCode, Inject, Param, Put, UseGuards } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { BundleResponse, PreKeyCountResponse, parseAddress, parseDeviceSelector, parseUploadKeysRequest } from '@sealpost/contracts';
import { CurrentDevice, DeviceAuthGuard } from '../auth/device-auth.guard';
import type { DevicePrincipal } from '../devices/devices.repository';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { RemoteBundlesClient } from '../federation/remote-bundles.client';
import { ClaimRateLimiter } from './claim-rate-limiter.service';
import { KeysManager } from './keys-manager.service';

@Controller('v1/keys')
@UseGuards(DeviceAuthGuard)
export class KeysController {
  constructor(
    private readonly keys: KeysManager,
    private readonly remote: RemoteBundlesClient,
    private readonly limiter: ClaimRateLimiter,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  @Put()
  @HttpCode(204)
  async upload(@CurrentDevice() device: DevicePrincipal, @Body() body: unknown): Promise<void> {
    await this.keys.upload(device, parseUploadKeysRequest(body, this.config.maxPreKeysPerUpload));
  }

  @Get()
  counts(@CurrentDevice() device: DevicePrincipal): Promise<PreKeyCountResponse> {
    return this.keys.counts(device);
  }

  @Get(':address/:deviceId')
  async claim(@CurrentDevice() device: DevicePrincipal, @Param('address') rawAddress: string, @Param('deviceId') rawDeviceId: string): Promise<BundleResponse> {
    const address = parseAddress(rawAddress);
    const deviceId = parseDeviceSelector(rawDeviceId);
    if (address.server !== this.config.serverName) {
      const target = `${address.localpart}@${address.server}`;
      await this.limiter.admit(device.accountId, target);
      return this.remote.claim(target, deviceId, device.accountId);
    }
    return this.keys.claim(device.accountId, address.localpart, this.config.serverName, deviceId);
  }
}
