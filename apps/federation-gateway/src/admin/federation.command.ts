import { Pool } from 'pg';
import type { GatewayConfig } from '@sealpost/config';
import { initCrypto } from '@sealpost/crypto';
import { DestinationsRepository } from '../outbound/destinations.repository';
import { OutboxRepository } from '../outbound/outbox.repository';
import { FederationHttpClient } from '../peers/federation-http.client';
import { PeerKeysRepository } from '../peers/peer-keys.repository';
import { PeerKeysService } from '../peers/peer-keys.service';
import { PeerHttp } from '../peers/peer-http';
import { PeerResolver } from '../peers/peer-resolver.service';
import { ProvenPeersRepository } from '../peers/proven-peers.repository';
import { ProvenPeers } from '../peers/proven-peers.service';
import { ServerKeyFilesStore } from '../server-keys/server-key-files.store';
import { ServerKeysRepository } from '../server-keys/server-keys.repository';
import { ServerKeysDocument, ServerKeysService, newKeyFile } from '../server-keys/server-keys.service';
import { FederationStatus } from './federation-status.service';

export class FederationUsageError extends Error {}

const USAGE = 'usage: federation status | reset SERVER | ping SERVER | rotate-key';

/** `npm run admin -- federation …`: the operator's view of outbound federation, and its levers. */
export async function federationCommand(pool: Pool, config: GatewayConfig, args: string[], print: (line: string) => void): Promise<number> {
  const [verb, server] = args;
  const status = new FederationStatus(new OutboxRepository(pool), new DestinationsRepository(pool), new PeerKeysRepository(pool));
  if (verb === 'status') {
    const rows = await status.status();
    if (rows.length === 0) print('no federation destinations yet');
    for (const r of rows) {
      print(
        `${r.destination}: queue ${r.queueDepth}${r.oldestEnvelopeAgeSeconds !== null ? `, oldest ${r.oldestEnvelopeAgeSeconds} s` : ''}, failures ${r.failures}` +
          `${r.nextAttemptAt ? `, next attempt ${r.nextAttemptAt}` : ''}${r.lastError ? `, last error: ${r.lastError}` : ''}`,
      );
    }
    return 0;
  }
  if (verb === 'reset' && server) {
    const { forgottenKeys } = await status.reset(server);
    print(`${server}: backoff cleared, ${forgottenKeys} pinned keys forgotten; queued deliveries are retried at the next sweep (≤ 5 s)`);
    return 0;
  }
  if (verb === 'rotate-key') {
    const key = newKeyFile(config.serverKeyValiditySeconds);
    await new ServerKeyFilesStore(config.keysDir).create(key);
    print(
      `new signing key ${key.keyId} in ${config.keysDir}; running gateways pick it up within a minute, older keys stay valid until they expire`,
    );
    return 0;
  }
  if (verb === 'ping' && server) return ping(pool, config, server, print);
  throw new FederationUsageError(USAGE);
}

async function ping(pool: Pool, config: GatewayConfig, server: string, print: (line: string) => void): Promise<number> {
  await initCrypto();
  const http = new PeerHttp(config);
  const resolver = new PeerResolver(config, http);
  const keys = new ServerKeysService(config, new ServerKeysRepository(pool));
  await keys.onModuleInit();
  keys.onApplicationShutdown();
  try {
    const url = await resolver.federationUrl(server);
    print(`1. resolved ${server} → ${url}`);
    const peerKeys = new PeerKeysService(config, new PeerKeysRepository(pool), resolver, http);
    const response = await http.fetch(`${url}/federation/v1/server-keys`);
    const doc = JSON.parse(response.body.toString('utf8')) as ServerKeysDocument;
    const verdict = peerKeys.judge(server, doc, await new PeerKeysRepository(pool).list(server));
    print(
      `2. server keys: ${(doc.keys ?? []).map((k: { keyId: string }) => k.keyId).join(', ')} — ${verdict ? `REFUSED: ${verdict}` : 'signature and pins OK'}`,
    );
    const proven = new ProvenPeers(config, new ProvenPeersRepository(pool));
    const answer = await new FederationHttpClient(config, resolver, keys, http, proven).request(server, 'GET', '/federation/v1/ping');
    print(`3. signed request as ${config.serverName}#${keys.signingKey().keyId}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.status === 200 && !verdict ? 0 : 1;
  } catch (error) {
    print(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await http.onApplicationShutdown();
  }
}
