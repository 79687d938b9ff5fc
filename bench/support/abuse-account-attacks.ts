/**
 * The abuse bench's attacks by account holders: an ack flood of random ids on authenticated
 * sockets, and one stranger with three devices flooding one victim while a legitimate sender
 * writes to the same victim. Accounts are made in prepare(), before the legitimate load starts.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { Attack, AttackHomeserver, AttackTargets, StatusTally, pause, paced } from './abuse-attack';
import { loopbackSource } from './abuse-legit-load';
import { Registered, postJson } from './homeserver';
import { benchAccountKeys } from './signal-devices';
import { WsReceiver, connectReceiver } from './ws-receiver';

const ACK_FLOODER_GROUP = 3;
const STRANGER_GROUP = 4;
const STRANGER_DEVICES = 3;
const WHISPER = 1;

interface Device extends Registered {
  registrationId: number;
}

/** Registers an account on `home` and links `extraDevices` more devices to it. */
async function accountWithDevices(home: AttackHomeserver, localpart: string, extraDevices: number): Promise<Device[]> {
  const directory = new Pool(home.services.directory.baseUrl, { connections: 2 });
  try {
    const keys = benchAccountKeys(localpart);
    const primary = await postJson<Registered>(directory, '/v1/accounts', keys.registration);
    const devices: Device[] = [{ ...primary, registrationId: keys.registration.registrationId }];
    for (let i = 0; i < extraDevices; i++) {
      const { code } = await postJson<{ code: string }>(
        directory,
        '/v1/devices/link-codes',
        {},
        { authorization: `Bearer ${primary.token}` },
      );
      const body = keys.linkBody(code);
      const linked = await postJson<Omit<Registered, 'accountId'>>(directory, '/v1/devices', body);
      devices.push({ ...linked, accountId: primary.accountId, registrationId: body.registrationId });
    }
    return devices;
  } finally {
    await directory.close();
  }
}

const wsUrlOf = (home: AttackHomeserver): string => `${home.services.relay.baseUrl.replace(/^http/, 'ws')}/v1/websocket`;

/**
 * (3) `sockets` authenticated sockets to beta's relay, each sending up to `framesPerSocket` ack
 * frames of 1,000 random ids as fast as the socket drains: a new frame whenever fewer than
 * `maxBufferedBytes` wait unsent in the socket (so in flight per socket is that, plus the kernel's
 * buffers).
 */
export function ackFlood(
  targets: AttackTargets,
  options: { sockets: number; framesPerSocket: number; maxBufferedBytes: number; runTag: string },
): Attack {
  let tokens: string[] = [];
  return {
    key: 'ack-flood',
    title: `${options.sockets} authenticated sockets on beta's relay sending up to ${options.framesPerSocket} ack frames of 1,000 random ids each`,
    offered: `${options.sockets} sockets, each sending as fast as it drains with at most ${(options.maxBufferedBytes / (1024 * 1024)).toFixed(0)} MiB unsent (at most ${options.framesPerSocket.toLocaleString('en')} frames each)`,
    unit: 'ack frames',
    async prepare() {
      for (let i = 0; i < options.sockets; i++)
        tokens.push((await accountWithDevices(targets.beta, `ackflood${options.runTag}${i}`, 0))[0].token);
    },
    async run(signal) {
      let frames = 0;
      const startedAt = Date.now();
      let lastFrameMs = 0;
      const closes = new StatusTally();
      const errorFrames = { count: 0 };
      const flood = (token: string, n: number): Promise<void> =>
        new Promise((done) => {
          const socket = new WebSocket(wsUrlOf(targets.beta), {
            headers: { authorization: `Bearer ${token}` },
            perMessageDeflate: false,
            localAddress: loopbackSource(ACK_FLOODER_GROUP, n),
          });
          let sent = 0;
          const pump = async (): Promise<void> => {
            while (!signal.aborted && sent < options.framesPerSocket && socket.readyState === WebSocket.OPEN) {
              if (socket.bufferedAmount > options.maxBufferedBytes) {
                await pause(5, signal);
                continue;
              }
              socket.send(JSON.stringify({ type: 'ack', ids: Array.from({ length: 1000 }, randomUUID) }));
              sent++;
              frames++;
              lastFrameMs = Date.now() - startedAt;
              if (sent % 20 === 0) await pause(0, signal);
            }
            // Stay open until the window ends: the relay's work on the frames is what is measured.
            await new Promise<void>((idle) => (signal.aborted ? idle() : signal.addEventListener('abort', () => idle(), { once: true })));
            socket.terminate();
          };
          socket.once('open', () => void pump());
          socket.on('message', (data: Buffer) => {
            if (data.toString('utf8').startsWith('{"type":"error"')) errorFrames.count++;
          });
          socket.on('error', (error) => closes.addError(error));
          socket.once('close', (code) => {
            if (!signal.aborted) closes.add(code);
            done();
          });
        });
      await Promise.all(tokens.map((token, n) => flood(token, n)));
      return { sent: frames, lastFrameMs, idsSent: frames * 1000, errorFrames: errorFrames.count, closedMidAttack: closes.toJSON() };
    },
    async dispose() {
      tokens = [];
    },
  };
}

/**
 * (5) A stranger account on alpha with three devices sends to one victim on alpha at
 * `strangerRate` per device per second (identified sends), while a legitimate account sends to the
 * same victim at `legitRate` per second in both the quiet window and the attack. Reported: the
 * legitimate sender's share of 429s before and during.
 */
export function strangerFlood(
  targets: AttackTargets,
  options: { strangerRate: number; maxOutstanding: number; legitRate: number; runTag: string },
): Attack {
  let victim: Device;
  let stranger: Device[] = [];
  let friend: Device;
  const pools: Pool[] = [];
  let victimSocket: WsReceiver | undefined;
  let delivered = 0;
  const relayUrl = targets.alpha.services.relay.baseUrl;
  const pool = (group: number, n: number): Pool => {
    const p = new Pool(relayUrl, { connections: 8, localAddress: loopbackSource(group, n), headersTimeout: 60_000 });
    pools.push(p);
    return p;
  };
  const sendTo = async (from: Device, via: Pool, tally: StatusTally): Promise<void> => {
    try {
      const answer = await via.request({
        method: 'PUT',
        path: `/v1/messages/${encodeURIComponent(victim.address)}`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${from.token}` },
        body: JSON.stringify({
          timestamp: Date.now(),
          messages: [
            { deviceId: 1, registrationId: victim.registrationId, type: WHISPER, content: Buffer.alloc(300, 7).toString('base64') },
          ],
        }),
      });
      await answer.body.dump();
      tally.add(answer.statusCode);
    } catch (error) {
      tally.addError(error);
    }
  };
  const legitRun = async (signal: AbortSignal, tally: StatusTally): Promise<void> => {
    const via = pool(STRANGER_GROUP, 100);
    await paced(signal, options.legitRate, 16, () => sendTo(friend, via, tally));
  };
  const share = (tally: StatusTally) => ({
    legitSends: tally.total,
    legit429: tally.count(429),
    legit429SharePct: tally.total ? Math.round((1000 * tally.count(429)) / tally.total) / 10 : 0,
    legitAnswers: tally.toJSON(),
  });
  return {
    key: 'stranger-flood',
    title: `a stranger with ${STRANGER_DEVICES} devices sending ${options.strangerRate}/s each to one victim on alpha while a friend sends ${options.legitRate}/s to the victim`,
    offered: `${STRANGER_DEVICES} devices × ${options.strangerRate}/s = ${STRANGER_DEVICES * options.strangerRate} sends/s, open model; a due send is skipped (counted) while ${options.maxOutstanding} of its device are unanswered`,
    unit: 'stranger sends',
    async prepare() {
      [victim] = await accountWithDevices(targets.alpha, `victim${options.runTag}`, 0);
      stranger = await accountWithDevices(targets.alpha, `stranger${options.runTag}`, STRANGER_DEVICES - 1);
      [friend] = await accountWithDevices(targets.alpha, `friend${options.runTag}`, 0);
      victimSocket = await connectReceiver(wsUrlOf(targets.alpha), victim.token, 0, () => delivered++, 'victim socket');
    },
    async baseline(signal) {
      const tally = new StatusTally();
      await legitRun(signal, tally);
      return share(tally);
    },
    async run(signal) {
      const legit = new StatusTally();
      const flood = new StatusTally();
      const deliveredBefore = delivered;
      const floods = Promise.all(
        stranger.map((device, n) => {
          const via = pool(STRANGER_GROUP, n);
          return paced(signal, options.strangerRate, options.maxOutstanding, () => sendTo(device, via, flood));
        }),
      );
      const [, paces] = await Promise.all([legitRun(signal, legit), floods]);
      return {
        sent: flood.total,
        skippedWhileOutstanding: paces.reduce((sum, p) => sum + p.skipped, 0),
        ...share(legit),
        strangerAnswers: flood.toJSON(),
        victimDeliveries: delivered - deliveredBefore,
      };
    },
    async dispose() {
      if (victimSocket) {
        victimSocket.closing = true;
        victimSocket.socket.terminate();
      }
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}
