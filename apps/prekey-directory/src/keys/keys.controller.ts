import { Body, Controller, Get, HttpCode, Inject, Param, Put, UseGuards } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { BundleResponse, PreKeyCountResponse, parseAddress, parseDeviceSelector, parseUploadKeysRequest } from '@sealpost/contracts';
import { CurrentDevice, DeviceAuthGuard } from '../auth/device-auth.guard';
import type { DevicePrincipal } from '../devices/devices.repository';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KeysManager } from './keys-manager.service';

@Controller('v1/keys')
@UseGuards(DeviceAuthGuard)
export class KeysController {
  constructor(
    private readonly keys: KeysManager,
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
  claim(
    @CurrentDevice() device: DevicePrincipal,
    @Param('address') rawAddress: string,
    @Param('deviceId') rawDeviceId: string,
  ): Promise<BundleResponse> {
    return this.keys.claim(device.accountId, parseAddress(rawAddress), parseDeviceSelector(rawDeviceId));
  }
}
