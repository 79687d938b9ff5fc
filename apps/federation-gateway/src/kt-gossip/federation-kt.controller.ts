import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { BUS_CLIENT } from '@sealpost/bus';
import { BusError, DirectoryPattern, SERVER_PATTERN, ValidationError } from '@sealpost/contracts';
import type { KtKeysDocument, SignedTreeHead } from '@sealpost/transparency';
import { busAnswer } from '../inbound/bus-answer';
import { SignedFederationRoute } from '../inbound/federation-body';
import { KtObservationsRepository } from './kt-observations.repository';

const OBSERVED_LIMIT = 100;

/** Key transparency over federation: this server's heads and proofs for peers, and what it saw of others. */
@Controller('federation/v1/kt')
export class FederationKtController {
  constructor(
    @Inject(BUS_CLIENT) private readonly bus: ClientProxy,
    private readonly observations: KtObservationsRepository,
  ) {}

  @Get('head')
  @SignedFederationRoute()
  head(): Promise<SignedTreeHead> {
    return busAnswer(this.bus.send<SignedTreeHead>(DirectoryPattern.KtHead, {}), 'directory');
  }

  /** This server's tree-head keys with their endorsements, for peers that pinned an older one. */
  @Get('keys')
  @SignedFederationRoute()
  keys(): Promise<KtKeysDocument> {
    return busAnswer(this.bus.send<KtKeysDocument>(DirectoryPattern.KtKeys, {}), 'directory');
  }

  @Get('consistency')
  @SignedFederationRoute()
  consistency(@Query('from') from: string, @Query('to') to: string): Promise<{ proof: string[] }> {
    if (!/^[0-9]{1,15}$/.test(from ?? '') || !/^[0-9]{1,15}$/.test(to ?? ''))
      throw new ValidationError('from', 'from and to must be integers');
    return busAnswer(
      this.bus.send<{ proof: string[] } | BusError>(DirectoryPattern.KtConsistency, { from: Number(from), to: Number(to) }),
      'directory',
    ) as Promise<{ proof: string[] }>;
  }

  @Get('inclusion')
  @SignedFederationRoute()
  inclusion(@Query('address') address: string, @Query('version') version: string, @Query('treeSize') treeSize?: string): Promise<unknown> {
    return busAnswer(this.bus.send(DirectoryPattern.KtInclusion, { address, version, treeSize }), 'directory');
  }

  /** Public: the signed heads of `server` this gateway has observed, newest first, for anyone to compare. */
  @Get('observed/:server')
  async observed(@Param('server') server: string): Promise<{ server: string; heads: SignedTreeHead[] }> {
    if (!SERVER_PATTERN.test(server)) throw new ValidationError('server', 'must be a server name');
    return { server, heads: await this.observations.observed(server, OBSERVED_LIMIT) };
  }
}
