/**
 * The abuse bench's attacks that need no account: huge unsigned federation bodies, sealed sends
 * to users of servers that never answer, held request bodies, forged federation requests naming
 * new origins, and malformed requests. Each comes from its own loopback source address
 * (127.0.2.x) and stays within its caps.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Socket, connect } from 'node:net';
import { Client } from 'pg';
import { Agent, request } from 'undici';
import { Attack, AttackSummary, AttackTargets, StatusTally, pause, untilAborted } from './abuse-attack';
import { loopbackSource } from './abuse-legit-load';
import { LatencyHistogram } from './histogram';

const ATTACKER_GROUP = 2;
const MiB = 1024 * 1024;
const json = { 'content-type': 'application/json' };

/** An undici Agent bound to attacker source address `n`; closing it drops every connection. */
const attackerAgent = (n: number, connections = 64): Agent =>
  new Agent({ localAddress: loopbackSource(ATTACKER_GROUP, n), connections, headersTimeout: 120_000, bodyTimeout: 120_000 });

/** Sends one request, recording its status (or error) and its duration; the answer's body is dropped. */
async function attempt(
  agent: Agent,
  url: string,
  options: { method: 'PUT' | 'GET'; headers: Record<string, string>; body?: Buffer | string; signal: AbortSignal },
  tally: StatusTally,
  latency: LatencyHistogram,
): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    const answer = await request(url, { ...options, dispatcher: agent });
    await answer.body.dump();
    tally.add(answer.statusCode);
  } catch (error) {
    tally.addError(error);
  }
  latency.recordSince(started);
}

const timing = (latency: LatencyHistogram): Record<string, number> => ({
  p50Ms: Math.round(latency.percentileMs(50)),
  maxMs: Math.round(latency.maxMs),
});

/** The intensity of an attack of `concurrent` workers that each start the next request once the last one ended. */
const closedLoop = (concurrent: number, cap: number): string =>
  `${concurrent} at a time, closed loop (each worker starts its next request when the last one ended; at most ${cap.toLocaleString('en')})`;

/** (1) Unsigned PUT /federation/v1/messages bodies of `mib` MiB, `concurrent` at a time, at most `cap`. */
export function hugeUnsignedBodies(targets: AttackTargets, options: { mib: number; concurrent: number; cap: number }): Attack {
  const head = Buffer.from('{"deliveries":[{"id":"x","address":"a@beta.test","pad":"');
  const tail = Buffer.from('"}]}');
  const body = Buffer.concat([head, Buffer.alloc(options.mib * MiB - head.length - tail.length, 0x41), tail]);
  return {
    key: 'huge-bodies',
    title: `unsigned ${options.mib} MiB PUT /federation/v1/messages to beta's gateway, ${options.concurrent} at a time`,
    offered: closedLoop(options.concurrent, options.cap),
    unit: 'requests',
    async run(signal) {
      const agent = attackerAgent(1, options.concurrent);
      const tally = new StatusTally();
      const latency = new LatencyHistogram();
      const url = `${targets.beta.services.gateway.baseUrl}/federation/v1/messages`;
      const headers = { ...json, 'sealpost-origin': targets.alpha.serverName, 'sealpost-destination': targets.beta.serverName };
      const sent = await untilAborted(signal, options.concurrent, options.cap, () =>
        attempt(agent, url, { method: 'PUT', headers, body, signal }, tally, latency),
      );
      await agent.destroy();
      return { sent, answers: tally.toJSON(), bytesEach: body.length, ...timing(latency) };
    },
  };
}

/** Outbox rows, bytes on disk and destinations of a homeserver's gateway. */
async function outboxFootprint(databaseUrl: string): Promise<{ rows: number; bytes: number; destinations: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ rows: string; bytes: string; destinations: string }>(
      `SELECT (SELECT count(*) FROM federation.outbox) AS rows,
              pg_total_relation_size('federation.outbox') AS bytes,
              (SELECT count(*) FROM federation.destinations) AS destinations`,
    );
    return { rows: Number(rows[0].rows), bytes: Number(rows[0].bytes), destinations: Number(rows[0].destinations) };
  } finally {
    await client.end();
  }
}

/**
 * (2) Sealed sends without any account to users of `destinations` servers that never answer,
 * through alpha's relay: `messages` envelopes of `contentKiB` KiB per request, one new
 * destination per request while they last, `concurrent` at a time, at most `cap` requests.
 */
export function remoteSealedSends(
  targets: AttackTargets,
  options: { destinations: number; messages: number; contentKiB: number; concurrent: number; cap: number },
): Attack {
  const servers = targets.voidServers.slice(0, options.destinations);
  const content = randomBytes(options.contentKiB * 1024).toString('base64');
  const body = JSON.stringify({
    timestamp: Date.now(),
    messages: Array.from({ length: options.messages }, (_, i) => ({ deviceId: i + 1, registrationId: 1, type: 6, content })),
  });
  return {
    key: 'remote-sealed',
    title: `unauthenticated sealed sends of ${options.messages} × ${options.contentKiB} KiB to users of ${servers.length} servers that never answer, via alpha's relay`,
    offered: closedLoop(options.concurrent, options.cap),
    unit: 'requests',
    async run(signal) {
      const before = await outboxFootprint(targets.alpha.databaseUrl);
      const agent = attackerAgent(2, options.concurrent);
      const tally = new StatusTally();
      const latency = new LatencyHistogram();
      const sent = await untilAborted(signal, options.concurrent, options.cap, (n) => {
        const address = `victim${n}@${servers[n % servers.length]}`;
        const url = `${targets.alpha.services.relay.baseUrl}/v1/messages/${encodeURIComponent(address)}`;
        const headers = { ...json, 'unidentified-access-key': randomBytes(16).toString('base64') };
        return attempt(agent, url, { method: 'PUT', headers, body, signal }, tally, latency);
      });
      await agent.destroy();
      const after = await outboxFootprint(targets.alpha.databaseUrl);
      return {
        sent,
        answers: tally.toJSON(),
        requestBytes: body.length,
        outboxRowsAdded: after.rows - before.rows,
        outboxMiBAdded: Math.round(((after.bytes - before.bytes) / MiB) * 10) / 10,
        destinationsAdded: after.destinations - before.destinations,
        ...timing(latency),
      };
    },
  };
}

/**
 * (4) `connections` connections to alpha's relay, each sending the headers and `sentBytes` of a
 * `declaredBytes` sealed-send body, then nothing. A connection the server closes is opened again
 * (at most `cap` in all), so the pressure holds for the whole window; all are dropped at the end.
 */
export function heldBodies(
  targets: AttackTargets,
  options: { connections: number; declaredBytes: number; sentBytes: number; cap: number; opensPerSecond: number },
): Attack {
  const relay = new URL(targets.alpha.services.relay.baseUrl);
  const reopenGapMs = 1000 / options.opensPerSecond;
  const prefix = '{"timestamp":1,"messages":[{"deviceId":1,"registrationId":1,"type":6,"content":"';
  const partial = Buffer.concat([Buffer.from(prefix), Buffer.alloc(options.sentBytes - prefix.length, 0x41)]);
  return {
    key: 'held-bodies',
    title: `${options.connections} connections to alpha's relay each sending ${(options.sentBytes / MiB).toFixed(1)} of ${(options.declaredBytes / MiB).toFixed(1)} MiB of a body, then stalling`,
    offered: `up to ${options.connections} connections held at once, each opened again when the server closes it, at most ${options.opensPerSecond} opened a second (≈ ${Math.round((options.opensPerSecond * options.sentBytes) / MiB)} MiB/s of body bytes) and ${options.cap.toLocaleString('en')} in all`,
    unit: 'connections',
    async run(signal) {
      const open = new Set<Socket>();
      let opened = 0;
      let closedByServer = 0;
      const answers = new StatusTally();
      const holdOne = (n: number): Promise<void> =>
        new Promise((done) => {
          opened++;
          const socket = connect({
            host: relay.hostname,
            port: Number(relay.port),
            localAddress: loopbackSource(ATTACKER_GROUP, 10 + (n % 200)),
          });
          open.add(socket);
          socket.once('connect', () => {
            socket.write(
              `PUT /v1/messages/${encodeURIComponent(`held@${targets.alpha.serverName}`)} HTTP/1.1\r\nHost: ${relay.host}\r\n` +
                `Content-Type: application/json\r\nUnidentified-Access-Key: ${randomBytes(16).toString('base64')}\r\n` +
                `Content-Length: ${options.declaredBytes}\r\n\r\n`,
            );
            socket.write(partial);
          });
          socket.once('data', (chunk: Buffer) => answers.add(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 'other'));
          socket.on('error', (error) => answers.addError(error));
          socket.once('close', () => {
            open.delete(socket);
            if (!signal.aborted) closedByServer++;
            done();
          });
        });
      signal.addEventListener('abort', () => open.forEach((s) => s.destroy()), { once: true });
      // Every opening waits for its turn (the first 200 too): the attack is a bounded stream of bodies
      // — a network's worth — not 740 MB pushed through loopback in one second.
      let nextOpenAt = 0;
      const paced = async (n: number): Promise<void> => {
        const now = Date.now();
        nextOpenAt = Math.max(nextOpenAt + reopenGapMs, now);
        await pause(nextOpenAt - now, signal);
        if (signal.aborted) return;
        await holdOne(n);
      };
      await untilAborted(signal, options.connections, options.cap, paced);
      return { sent: opened, closedByServerMidAttack: closedByServer, answers: answers.toJSON() };
    },
  };
}

/**
 * (6) Forged federation requests (well-formed signature headers, random signature) to beta's
 * gateway, each naming one of `origins` servers it has never heard of (in its peer map, behind
 * the never-answering server), `concurrent` at a time, at most `cap`. The blackhole's accepted
 * connections during the attack count the key lookups the gateway made for them.
 */
export function newOriginLookups(targets: AttackTargets, options: { origins: number; concurrent: number; cap: number }): Attack {
  const origins = targets.voidServers.slice(-options.origins);
  const body = JSON.stringify({ deliveries: [] });
  const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
  return {
    key: 'new-origins',
    title: `forged federation requests to beta's gateway naming ${origins.length} unknown origins, ${options.concurrent} at a time`,
    offered: closedLoop(options.concurrent, options.cap),
    unit: 'requests',
    async run(signal) {
      const agent = attackerAgent(3, options.concurrent);
      const tally = new StatusTally();
      const latency = new LatencyHistogram();
      const lookupsBefore = await targets.blackhole.accepted();
      const url = `${targets.beta.services.gateway.baseUrl}/federation/v1/messages`;
      const sent = await untilAborted(signal, options.concurrent, options.cap, (n) => {
        const origin = origins[n % origins.length];
        const headers = {
          ...json,
          'content-digest': digest,
          'sealpost-origin': origin,
          'sealpost-destination': targets.beta.serverName,
          'signature-input': `sig1=("@method" "@target-uri" "content-digest" "sealpost-origin" "sealpost-destination");created=${Math.floor(Date.now() / 1000)};keyid="${origin}#k1";alg="ed25519";nonce="${randomBytes(12).toString('base64')}"`,
          signature: `sig1=:${randomBytes(64).toString('base64')}:`,
        };
        return attempt(agent, url, { method: 'PUT', headers, body, signal }, tally, latency);
      });
      await agent.destroy();
      return {
        sent,
        answers: tally.toJSON(),
        peerConnections: (await targets.blackhole.accepted()) - lookupsBefore,
        ...timing(latency),
      };
    },
  };
}

/** Malformed requests of (7), as raw bytes; `{host}` is replaced by the target's host. */
const JUNK: { name: string; bytes: (host: string) => Buffer }[] = [
  {
    name: 'upgrade-without-key',
    bytes: (h) => Buffer.from(`GET /v1/websocket HTTP/1.1\r\nHost: ${h}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`),
  },
  {
    name: 'upgrade-bad-version',
    bytes: (h) =>
      Buffer.from(
        `GET /v1/websocket HTTP/1.1\r\nHost: ${h}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: x\r\n\r\n`,
      ),
  },
  { name: 'no-host', bytes: () => Buffer.from('GET /healthz HTTP/1.1\r\n\r\n') },
  { name: 'huge-header', bytes: (h) => Buffer.from(`GET /healthz HTTP/1.1\r\nHost: ${h}\r\nX-Junk: ${'a'.repeat(40_000)}\r\n\r\n`) },
  { name: 'head-huge-header', bytes: (h) => Buffer.from(`HEAD /healthz HTTP/1.1\r\nHost: ${h}\r\nX-Junk: ${'a'.repeat(40_000)}\r\n\r\n`) },
  { name: 'binary', bytes: () => randomBytes(2048) },
];

/** One raw exchange: writes `bytes`, reads until close, 64 KiB or `timeoutMs`; returns what came back. */
function rawExchange(url: URL, bytes: Buffer, localAddress: string, timeoutMs: number): Promise<string> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress }, () => socket.end(bytes));
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      done(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > 64 * 1024) finish();
    });
    socket.on('error', finish);
    socket.once('close', finish);
  });
}

/** (7) Malformed upgrades and header junk to alpha's relay and beta's gateway, `concurrent` at a time, at most `cap`. */
export function malformedJunk(targets: AttackTargets, options: { concurrent: number; cap: number }): Attack {
  const hosts = [new URL(targets.alpha.services.relay.baseUrl), new URL(targets.beta.services.gateway.baseUrl)];
  return {
    key: 'junk',
    title: `malformed upgrades, missing Host, 40 KB headers and binary junk to alpha's relay and beta's gateway, ${options.concurrent} at a time`,
    offered: closedLoop(options.concurrent, options.cap),
    unit: 'requests',
    async run(signal) {
      const byKind = new Map<string, StatusTally>();
      let notJson = 0;
      const sent = await untilAborted(signal, options.concurrent, options.cap, async (n) => {
        const kind = JUNK[n % JUNK.length];
        const url = hosts[Math.floor(n / JUNK.length) % hosts.length];
        const answer = await rawExchange(url, kind.bytes(url.host), loopbackSource(ATTACKER_GROUP, 50 + (n % 50)), 3000);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? (answer ? 'other' : 'closed');
        const tally = byKind.get(kind.name) ?? new StatusTally();
        byKind.set(kind.name, tally);
        tally.add(status);
        const [head, payload = ''] = answer.split('\r\n\r\n', 2);
        if (Number(status) >= 400 && !(kind.name.startsWith('head') ? payload === '' : /content-type: application\/json/i.test(head)))
          notJson++;
        if (signal.aborted) return;
        await pause(0, signal);
      });
      return { sent, answers: Object.fromEntries([...byKind].map(([k, t]) => [k, t.toJSON()])), errorsNotJsonOrHeadWithBody: notJson };
    },
  };
}
