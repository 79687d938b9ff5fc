import { SealpostClient } from '@sealpost/client';
import type { LoadPopulation } from '../accounts/load-accounts.types';
import { SnapshotClientStore } from '../accounts/snapshot-client-store';
import { ArrivalSchedule } from '../schedule/arrival-schedule';
import { decodeSendKey } from '../schedule/send-key';
import { DeliveryVerifier } from './delivery-verifier';
import { ArrivedEnvelope, DeviceSockets } from './device-sockets';
import type { ConnectFigures, CoordinatorMessage, WorkerLedger, WorkerSecond } from './ipc-messages';
import { PoolEntry, sealPool } from './sealed-pool';
import { warmUp, warmUpTag } from './warm-up';
import { SendGenerator } from './send-generator';
import { WorkerBook } from './worker-ledger';
import { isIpv4LoopbackUrl } from '../targets/resolved-target';

type Init = Extract<CoordinatorMessage, { type: 'init' }>;
const nowMs = () => performance.timeOrigin + performance.now();
const OPEN_CONCURRENCY = 16;

/**
 * One worker process of a run: holds its devices' sockets, seals its pool, generates its share
 * of the arrivals once told the start time, reports each second, and hands its book over at the end.
 */
export class LoadWorker {
  private readonly schedule: ArrivalSchedule;
  private readonly book: WorkerBook;
  private readonly sockets: DeviceSockets;
  private readonly clients = new Map<number, SealpostClient>();
  private readonly population: LoadPopulation;
  private generator?: SendGenerator;
  private verifier?: DeliveryVerifier;
  private t0 = 0;
  private entries: PoolEntry[] = [];
  warmDelivered = 0;
  private secondTimer?: NodeJS.Timeout;

  constructor(private readonly init: Init) {
    this.population = init.population;
    this.schedule = new ArrivalSchedule(init.options.stages, init.options.startRate);
    this.book = new WorkerBook(this.schedule, init.worker, init.workers);
    this.sockets = new DeviceSockets(
      (device, envelope, at) => this.onEnvelope(device, envelope, at),
      (stage, ms) => this.book.ackRoundTrip(stage, ms),
    );
  }

  private get ownDevices() {
    return this.population.devices.filter((d) => d.worker === this.init.worker);
  }

  connect(): Promise<ConnectFigures> {
    const relayOf = (account: number) => this.init.targets[this.population.accounts[account].target].relayUrl;
    const devices = this.ownDevices.map((d) => ({
      index: d.index,
      token: d.token,
      url: `${relayOf(d.account).replace(/^http/i, 'ws').replace(/\/+$/, '')}/v1/websocket`,
      bindLoopback: isIpv4LoopbackUrl(relayOf(d.account)),
    }));
    return this.sockets.connectAll(devices, this.init.options.connectConcurrency, this.init.sourceAddresses);
  }

  /** Opens the SDK clients (senders; with --verify every own device) and seals the pool. */
  async seal(): Promise<{ envelopes: number; bodyBytes: number; ms: number }> {
    const started = nowMs();
    const { options } = this.init;
    const stores = new Map(this.init.stores);
    const servers = Object.fromEntries(this.init.targets.map((t) => [t.serverName, t.discoveryUrl]));
    const wanted = this.ownDevices.filter((d) => d.sender || options.verify);
    let next = 0;
    const lane = async () => {
      while (next < wanted.length) {
        const device = wanted[next++];
        const store = new SnapshotClientStore(stores.get(device.index));
        this.clients.set(device.index, await SealpostClient.open({ store, servers }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, wanted.length) }, lane));
    const senders = new Map([...this.clients].filter(([index]) => this.population.devices[index].sender));
    const total = this.schedule.totalForWorker(this.init.worker, this.init.workers);
    const size = options.verify ? total : Math.min(total, options.poolSize);
    const entries = (this.entries =
      size === 0
        ? []
        : await sealPool({
            size,
            worker: this.init.worker,
            runTag: this.init.runTag,
            options,
            population: this.population,
            clients: senders,
          }));
    if (!options.verify) {
      // The pool is sealed: the clients' stores are no longer needed, and closing them stops Node's async-context tracking.
      await Promise.all([...this.clients.values()].map((c) => c.close()));
      this.clients.clear();
    } else {
      this.verifier = new DeliveryVerifier(this.clients, this.population, this.init.runTag, options.size, (stage, ok) =>
        this.book.verified(stage, ok),
      );
    }
    const home = this.init.targets.map((t) => t.relayUrl);
    this.generator = new SendGenerator({
      book: this.book,
      entries,
      uniqueEntries: options.verify,
      relayUrls: home,
      population: this.population,
      schedule: this.schedule,
      runTag: this.init.runTag,
      worker: this.init.worker,
      workers: this.init.workers,
      maxInFlight: options.maxInFlight,
      sealedShare: options.sealedShare,
      ...(this.init.sourceAddresses.length > 0 ? { localAddress: this.init.sourceAddresses[0] } : {}),
    });
    // Request body bytes after the timestamp: the sealed envelopes, base64, one per recipient device.
    const bodyBytes = entries.reduce((n, e) => n + e.bodyTail.length, 0);
    return { envelopes: entries.length, bodyBytes, ms: Math.round(nowMs() - started) };
  }

  /** Unmeasured closed-loop sends from the pool (`--warmup`): their arrivals are counted apart, in `warmDelivered`. */
  warmUp(sends: number): Promise<{ accepted: number; expected: number; refused: number }> {
    const generator = this.generator!;
    return warmUp({
      sends,
      concurrency: Math.min(32, this.init.options.maxInFlight),
      entries: this.entries,
      runTag: this.init.runTag,
      worker: this.init.worker,
      send: (entry, timestamp) => generator.sendEntry(entry, timestamp),
    });
  }

  /** Starts the load at `t0EpochMs`; `onSecond` gets each second's figures as it closes. */
  start(t0EpochMs: number, onSecond: (second: WorkerSecond) => void): void {
    this.t0 = t0EpochMs;
    this.generator!.start(t0EpochMs);
    let cpu = process.cpuUsage();
    const next = (s: number) => {
      this.secondTimer = setTimeout(
        () => {
          const used = process.cpuUsage(cpu);
          cpu = process.cpuUsage();
          onSecond(this.book.closeSecond(this.generator!.inFlight(), Math.round((used.user + used.system) / 1000)));
          next(s + 1);
        },
        Math.max(0, this.t0 + (s + 1) * 1000 - nowMs()),
      );
    };
    next(0);
  }

  stopSending(): void {
    this.generator?.stop();
  }

  /** Stops everything and returns the book (after pending --verify decryptions, at most 10 s). */
  async finish(): Promise<{ ledger: WorkerLedger; drops: Record<string, number>; verifyFailures: Record<string, number> }> {
    clearTimeout(this.secondTimer);
    this.sockets.closeAll();
    await this.generator?.close();
    if (this.verifier) await Promise.race([this.verifier.settled(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    await Promise.all([...this.clients.values()].map((c) => c.close().catch(() => undefined)));
    return { ledger: this.book.ledger(), drops: this.sockets.drops, verifyFailures: this.verifier?.failuresByReason ?? {} };
  }

  private onEnvelope(device: number, envelope: ArrivedEnvelope, arrivedMs: number): number {
    if (decodeSendKey(warmUpTag(this.init.runTag), envelope.clientTimestamp)) {
      this.warmDelivered++;
      return -1;
    }
    const key = this.t0 === 0 ? undefined : decodeSendKey(this.init.runTag, envelope.clientTimestamp);
    if (!key) {
      this.book.foreign++;
      return -1;
    }
    const intended = this.t0 + 1000 * this.book.intendedSeconds(key.worker, key.seq);
    const stage = this.book.arrived(key.worker, key.seq, this.population.devices[device].position, arrivedMs - intended);
    if (stage >= 0) this.verifier?.check(device, envelope, key, stage);
    return stage;
  }
}
