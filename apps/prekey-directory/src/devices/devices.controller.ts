import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { DeviceListResponse, LinkCodeResponse, LinkDeviceResponse, parseDeviceIdParam, parseLinkDeviceRequest } from '@sealpost/contracts';
import { CurrentDevice, DeviceAuthGuard } from '../auth/device-auth.guard';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import type { DevicePrincipal } from './devices.repository';
import { DevicesService } from './devices.service';

@Controller('v1/devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  @Post('link-codes')
  @HttpCode(201)
  @UseGuards(DeviceAuthGuard)
  createLinkCode(@CurrentDevice() device: DevicePrincipal): Promise<LinkCodeResponse> {
    return this.devices.createLinkCode(device);
  }

  @Post()
  @HttpCode(201)
  link(@Body() body: unknown): Promise<LinkDeviceResponse> {
    return this.devices.link(parseLinkDeviceRequest(body, this.config.maxPreKeysPerUpload));
  }

  @Get()
  @UseGuards(DeviceAuthGuard)
  list(@CurrentDevice() device: DevicePrincipal): Promise<DeviceListResponse> {
    return this.devices.list(device);
  }

  @Delete(':deviceId')
  @HttpCode(204)
  @UseGuards(DeviceAuthGuard)
  async remove(@CurrentDevice() device: DevicePrincipal, @Param('deviceId') deviceId: string): Promise<void> {
    await this.devices.remove(device, parseDeviceIdParam(deviceId));
  }
}
