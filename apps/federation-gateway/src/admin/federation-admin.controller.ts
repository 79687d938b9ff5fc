import { CanActivate, Controller, ExecutionContext, Get, Inject, Injectable, Param, Post, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { GatewayConfig } from '@sealpost/config';
import { SERVER_PATTERN, ValidationError } from '@sealpost/contracts';
import { constantTimeEqual } from '@sealpost/crypto';
import { ApiError } from '@sealpost/http';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { OutboxScheduler } from '../outbound/outbox-scheduler.service';
import { PeerKeysService } from '../peers/peer-keys.service';
import { DestinationStatus, FederationStatus } from './federation-status.service';

/** The admin endpoint exists only when ADMIN_TOKEN is set, and answers only to that bearer token. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.adminToken) throw new ApiError(404, 'not_found', 'no such route');
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const presented = Buffer.from(header.replace(/^Bearer /i, ''));
    if (!constantTimeEqual(presented, Buffer.from(this.config.adminToken))) throw new ApiError(401, 'unauthorized', 'admin token required');
    return true;
  }
}

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
