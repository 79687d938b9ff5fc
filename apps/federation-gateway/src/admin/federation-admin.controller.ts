import { Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import { SERVER_PATTERN, ValidationError } from '@sealpost/contracts';
import { OutboxScheduler } from '../outbound/outbox-scheduler.service';
import { PeerKeysService } from '../peers/peer-keys.service';
import { AdminTokenGuard } from './admin-token.guard';
import { DestinationStatus, FederationStatus } from './federation-status.service';

@Controller('admin/federation')
@UseGuards(AdminTokenGuard)
export class FederationAdminController {
  constructor(
    private readonly status: FederationStatus,
    private readonly scheduler: OutboxScheduler,
    private readonly peerKeys: PeerKeysService,
  ) {}

  @Get('status')
  async destinations(): Promise<{ destinations: DestinationStatus[] }> {
    return { destinations: await this.status.status() };
  }

  @Post('reset/:server')
  async reset(@Param('server') server: string): Promise<{ forgottenKeys: number }> {
    if (!SERVER_PATTERN.test(server)) throw new ValidationError('server', 'must be a server name');
    const result = await this.status.reset(server);
    this.peerKeys.forget(server);
    this.scheduler.flushSoon(server);
    return result;
  }
}
