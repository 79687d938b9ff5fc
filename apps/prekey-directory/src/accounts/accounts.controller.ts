import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { RegisterAccountResponse, parseRegisterAccountRequest } from '@sealpost/contracts';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { AccountsService } from './accounts.service';

@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService, @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig) {}

  @Post()
  @HttpCode(201)
  register(@Body() body: unknown): Promise<RegisterAccountResponse> {
    return this.accounts.register(parseRegisterAccountRequest(body, this.config.maxPreKeysPerUpload));
  }
}
