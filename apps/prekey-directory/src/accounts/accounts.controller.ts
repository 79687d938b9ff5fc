import { Body, Controller, Delete, HttpCode, Inject, Post, Put, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { DirectoryConfig } from '@sealpost/config';
import {
  ChangeIdentityKeyResponse,
  RegisterAccountResponse,
  parseChangeIdentityKeyRequest,
  parseRegisterAccountRequest,
} from '@sealpost/contracts';
import { CurrentDevice, DeviceAuthGuard } from '../auth/device-auth.guard';
import type { DevicePrincipal } from '../devices/devices.repository';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { AccountsService } from './accounts.service';
import { IdentityKeyChangeService } from './identity-key-change.service';
import { AccountDeletionService } from './account-deletion.service';
import { RegistrationRateLimiter } from './registration-rate-limiter.service';

@Controller('v1/accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly identityKeys: IdentityKeyChangeService,
    private readonly deletion: AccountDeletionService,
    private readonly registrationLimiter: RegistrationRateLimiter,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  @Post()
  @HttpCode(201)
  async register(@Req() request: FastifyRequest, @Body() body: unknown): Promise<RegisterAccountResponse> {
    await this.registrationLimiter.admit(request.ip);
    return this.accounts.register(parseRegisterAccountRequest(body, this.config.maxPreKeysPerUpload));
  }

  /** Deletes the caller's account (device 1 only): devices, keys and queues go; the log records the end. */
  @Delete('me')
  @HttpCode(204)
  @UseGuards(DeviceAuthGuard)
  async deleteAccount(@CurrentDevice() device: DevicePrincipal): Promise<void> {
    await this.deletion.delete(device);
  }

  @Put('identity-key')
  @UseGuards(DeviceAuthGuard)
  changeIdentityKey(@CurrentDevice() device: DevicePrincipal, @Body() body: unknown): Promise<ChangeIdentityKeyResponse> {
    return this.identityKeys.change(device, parseChangeIdentityKeyRequest(body));
  }
}
