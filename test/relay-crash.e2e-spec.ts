import { randomBytes } from 'node:crypto';
import { TestAccount, registerAccount } from './support/accounts';
import { eventually } from './support/bus-listener';
import { DeviceSocket } from './support/device-socket';
import {
  SendStream,
  checkDeliveries,
  expectEachAnsweredSendDeliveredOnce,
  identifiedSend,
  orderViolations,
  streamCounter,
} from './support/send-stream';
import { ServiceProcess, assertBuilt, builtServiceEnv, freePort, startServiceProcess } from './support/service-process';
import { UNLIMITED_RELAY_RATES } from '../bench/support/unlimited-rates';

/**
 * DESIGN §7: "A send answered 2xx is never lost: not when any service is killed with SIGKILL.
 * Each envelope reaches each device at least once; clients dedupe on id. Per sender-device →
 * recipient-device order is kept." The BUILT relay runs as a child process; a stream of sends
 * goes on while it is SIGKILLed and a new relay process is started on the same port.
 */

const DIRECTORY_ENTRY = 'apps/prekey-directory/src/main.js';
const RELAY_ENTRY = 'apps/relay/src/main.js';

const children: ServiceProcess[] = [];
let directory: ServiceProcess;
let baseEnv: Record<string, string>;

async function startRelay(port: number): Promise<ServiceProcess> {
  const relay = await startServiceProcess(RELAY_ENTRY, { ...baseEnv, RELAY_PORT: String(port) }, port);
  children.push(relay);
  return relay;
}

async function sigkill(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => service.child.once('exit', () => resolve()));
  service.child.kill('SIGKILL');
  await exited;
}

/** Waits until `socket` has said queue-empty and holds every counter in `wanted`. */
async function receivedAll(
  socket: DeviceSocket,
  tag: string,
  wanted: number[],
  timeoutMs: number,
  also: DeviceSocket[] = [],
): Promise<void> {
  const have = () => {
    const got = new Set<number>();
    for (const s of [...also, socket])
      for (const e of s.envelopes) {
        const n = streamCounter(tag, e);
        if (n !== null) got.add(n);
      }
    return got;
  };
  try {
    await eventually(() => socket.queueEmpty >= 1 && wanted.every((n) => have().has(n)), timeoutMs);
  } catch {
    const got = have();
    const missing = wanted.filter((n) => !got.has(n));
    throw new Error(
      `not every 2xx'd envelope arrived within ${timeoutMs} ms: queueEmpty=${socket.queueEmpty}, missing ${missing.length}: ${missing.slice(0, 30).join(', ')}`,
    );
  }
}

const counters = (tag: string, socket: DeviceSocket) =>
  socket.envelopes.map((e) => streamCounter(tag, e)).filter((n): n is number => n !== null);

function relayOutputs(): string {
  return children.map((c, i) => `--- child ${i} (${c.url}) ---\n${c.output().slice(-4000)}`).join('\n');
}

describe('relay killed with SIGKILL mid-stream (built processes)', () => {
  let sender: TestAccount;

  beforeAll(async () => {
    assertBuilt(DIRECTORY_ENTRY, RELAY_ENTRY);
    const directoryPort = await freePort();
    baseEnv = builtServiceEnv({
      DIRECTORY_PORT: String(directoryPort),
      ...UNLIMITED_RELAY_RATES,
    });
    directory = await startServiceProcess(DIRECTORY_ENTRY, baseEnv, directoryPort);
    children.push(directory);
    sender = await registerAccount(directory.url, { stem: 'crash-sender' });
  }, 40_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => sigkill(c).catch(() => undefined)));
  });

  it("delivers every 2xx'd envelope of a concurrent stream exactly once after dedupe, across a SIGKILL and restart (recipient connects afterwards)", async () => {
    const recipient = await registerAccount(directory.url, { stem: 'crash-rcpt' });
    const tag = `c8-${randomBytes(4).toString('hex')}`;
    const port = await freePort();
    let relay = await startRelay(port);
    const stream = new SendStream(
      identifiedSend(() => relay.url, sender, recipient, tag),
      { concurrency: 8, failureBackoffMs: 100 },
    ).start();
    let socket: DeviceSocket | undefined;
    try {
      await stream.until(() => stream.ok.length >= 150, 20_000, '150 2xx before the kill');
      const killedAt = Date.now();
      await sigkill(relay);
      const okAtKill = stream.ok.length;
      relay = await startRelay(port);
      const restartMs = Date.now() - killedAt;
      await stream.until(() => stream.ok.length >= 400, 25_000, '400 2xx in all');
      await stream.finish();
      const failuresDuringOutage = stream.failures.length;

      socket = await DeviceSocket.connect(relay.url, recipient.token, true);
      await receivedAll(socket, tag, stream.ok, 20_000);
      const result = checkDeliveries(tag, stream.ok, stream.issued, socket.envelopes);
      console.log(
        `[relay-crash c=8] issued ${stream.issued}, 2xx ${stream.ok.length} (${okAtKill} before the kill), failed ${failuresDuringOutage} ` +
          `(${[...new Set(stream.failures.map((f) => f.why))].join('; ')}), restart ${restartMs} ms, received ${socket.envelopes.length} ` +
          `(${result.distinct} distinct, ${result.extra.length} unanswered-but-stored)`,
      );
      expectEachAnsweredSendDeliveredOnce(result);
      expect(stream.ok.length).toBeGreaterThan(okAtKill);
      // Failures happen only around the kill: every failure is a connection error or 5xx, never a 4xx.
      expect(stream.failures.filter((f) => /^status 4/.test(f.why))).toEqual([]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${relayOutputs()}`);
    } finally {
      await stream.finish();
      await socket?.close();
      await sigkill(relay);
    }
  }, 60_000);

  it('keeps per sender-device order for sequential sends across a SIGKILL and restart', async () => {
    const recipient = await registerAccount(directory.url, { stem: 'crash-rcpt' });
    const tag = `c1-${randomBytes(4).toString('hex')}`;
    const port = await freePort();
    let relay = await startRelay(port);
    const stream = new SendStream(
      identifiedSend(() => relay.url, sender, recipient, tag),
      { concurrency: 1, failureBackoffMs: 100 },
    ).start();
    let socket: DeviceSocket | undefined;
    try {
      await stream.until(() => stream.ok.length >= 60, 20_000, '60 2xx before the kill');
      await sigkill(relay);
      relay = await startRelay(port);
      await stream.until(() => stream.ok.length >= 150, 20_000, '150 2xx in all');
      await stream.finish();

      socket = await DeviceSocket.connect(relay.url, recipient.token, true);
      await receivedAll(socket, tag, stream.ok, 20_000);
      const result = checkDeliveries(tag, stream.ok, stream.issued, socket.envelopes);
      expectEachAnsweredSendDeliveredOnce(result);
      const okSet = new Set(stream.ok);
      expect(orderViolations(counters(tag, socket).filter((n) => okSet.has(n)))).toEqual([]);
      // Sequential sends: even the ones stored without an answer (cut off by the kill) are in order.
      expect(orderViolations(counters(tag, socket))).toEqual([]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${relayOutputs()}`);
    } finally {
      await stream.finish();
      await socket?.close();
      await sigkill(relay);
    }
  }, 60_000);

  it("loses nothing when the relay holding the recipient's socket is SIGKILLed while it receives (sends go on through a second relay)", async () => {
    const recipient = await registerAccount(directory.url, { stem: 'crash-rcpt' });
    const tag = `live-${randomBytes(4).toString('hex')}`;
    const [portA, portB] = [await freePort(), await freePort()];
    let relayA = await startRelay(portA);
    const relayB = await startRelay(portB);
    const sockets: DeviceSocket[] = [];
    const stream = new SendStream(
      identifiedSend(() => relayB.url, sender, recipient, tag),
      { concurrency: 1, failureBackoffMs: 100 },
    );
    try {
      sockets.push(await DeviceSocket.connect(relayA.url, recipient.token, true));
      await eventually(() => sockets[0].queueEmpty === 1);
      stream.start();
      // Kill A while its socket is being fed live (pushes woken across relays over Redis).
      await eventually(() => sockets[0].envelopes.length >= 100, 20_000);
      const receivedBeforeKill = sockets[0].envelopes.length;
      await sigkill(relayA);
      await eventually(() => sockets[0].closeCode !== null, 5000);
      relayA = await startRelay(portA);
      sockets.push(await DeviceSocket.connect(relayA.url, recipient.token, true));
      const okAtReconnect = stream.ok.length;
      await stream.until(() => stream.ok.length >= okAtReconnect + 100, 20_000, '100 more 2xx after the reconnect');
      await stream.finish();
      await receivedAll(sockets[1], tag, stream.ok, 20_000, [sockets[0]]);

      const all = sockets.flatMap((s) => s.envelopes);
      const result = checkDeliveries(tag, stream.ok, stream.issued, all);
      console.log(
        `[relay-crash live] 2xx ${stream.ok.length}, failed ${stream.failures.length}, first socket got ${receivedBeforeKill} before the kill ` +
          `(${sockets[0].envelopes.length} in all, closed ${sockets[0].closeCode}), second socket ${sockets[1].envelopes.length}, redelivered ${result.redelivered}`,
      );
      expectEachAnsweredSendDeliveredOnce(result);
      // The relay the sender used never went down.
      expect(stream.failures).toEqual([]);
      // Each connection delivers in per-sender order (the second one starts again at the oldest unacked).
      for (const socket of sockets) expect(orderViolations(counters(tag, socket))).toEqual([]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${relayOutputs()}`);
    } finally {
      await stream.finish();
      for (const socket of sockets) await socket.close();
      await sigkill(relayA);
      await sigkill(relayB);
    }
  }, 60_000);
});
