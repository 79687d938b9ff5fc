import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { GatewayConfig } from '@sealpost/config';
import { constantTimeEqual } from '@sealpost/crypto';
import { ApiError } from '@sealpost/http';
import { GATEWAY_CONFIG } from '../gateway.tokens';

/** `Authorization: Bearer <token>` (RFC 6750 §2.1: the scheme name is case-insensitive, one space). */
const BEARER = /^Bearer (\S+)$/i;

/**
 * The admin endpoint exists only when ADMIN_TOKEN is set, and answers only to that token under
 * the Bearer scheme; a bare token or another scheme is 401 like a wrong token.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.adminToken) throw new ApiError(404, 'not_found', 'no such route');
    const match = BEARER.exec(context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '');
    if (!match || !constantTimeEqual(Buffer.from(match[1]), Buffer.from(this.config.adminToken))) {
      throw new ApiError(401, 'unauthorized', 'admin token required');
    }
    return true;
  }
}
