/**
 * The legitimate load of the abuse bench: accounts with one device each on both homeservers,
 * registered by the client SDK, each device sending from its own loopback source address
 * (127.0.1.x, as real clients come from many addresses) to its home relay, half sealed
 * (Unidentified-Access-Key) and half identified, to one of its few contacts on either server,
 * every recipient socket connected and acking. The envelopes are real libsignal sealed-sender
 * messages, sealed by the SDK into a pool BEFORE the timed part (sealing is the client's CPU, not
 * the servers' load). Sends are judged by the phase of their INTENDED time: delivery latency
 * (intended → arrival), error share (non-2xx or no answer) and lost (2xx'd, never delivered by the
 * end of the drain).
 */
import { MemoryClientStore, PreparedSend, SealpostClient } from '@sealpost/client';
import { Pool } from 'undici';
import { AbuseTimeline, PhasePart } from './abuse-timeline';
import { mapConcurrent } from './closed-loop';
import { DeliveryLedger } from './delivery-ledger';
import type { RunningHomeserver } from './federated-homeservers';
import { LatencyHistogram } from './histogram';
import { ReceivedEnvelope, WsReceiver, connectAllDrained } from './ws-receiver';

/** Contacts each device sends to (sessions set up before the load; a client talks to a few people, not to everyone). */
const CONTACTS_PER_DEVICE = 4;
/** Envelopes sealed before the load; reused in turn when the run sends more (see DeliveryLedger.bindSealed). */
const SEALED_POOL = 16_384;

export interface LegitDevice {
  index: number;
  home: RunningHomeserver;
  client: SealpostClient;
  address: string;
  token: string;
  /** Pool to the device's home relay, bound to the device's own loopback source address. */
  relay: Pool;
}

/** A pre-sealed message from one device to another. */
interface SealedSend {
  from: LegitDevice;
  to: LegitDevice;
  prepared: PreparedSend;
}

export interface PhaseFigures {
  sends: number;
  errors: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
  delivered: number;
  /** How late this client issued the phase's sends (intended time → request started): its own lag, not the servers'. */
  issueLagP99Ms: number;
  issueLagMaxMs: number;
}

/** Loopback source address number `n` of a group (127.0.<group>.<n+1>), for up to 254 × 254 clients. */
export function loopbackSource(group: number, n: number): string {
  return `127.${group}.${Math.floor(n / 254)}.${(n % 254) + 1}`;
}

/** Registers `perServer` one-device accounts on each homeserver through the SDK (not measured). */
export async function registerLegitDevices(homeservers: RunningHomeserver[], perServer: number, runTag: string): Promise<LegitDevice[]> {
  const servers = Object.fromEntries(homeservers.map((h) => [h.serverName, h.services.gateway.baseUrl]));
  const devices: LegitDevice[] = [];
  for (const home of homeservers) {
    const clients = await mapConcurrent(
      Array.from({ length: perServer }, (_, i) => i),
      8,
      (i) =>
        SealpostClient.register({
          store: new MemoryClientStore(),
          servers,
          server: home.serverName,
          localpart: `legit${runTag}${i}`,
          preKeyBatch: CONTACTS_PER_DEVICE * 2,
        }),
    );
    for (const client of clients) {
      const index = devices.length;
      devices.push({
        index,
        home,
        client,
        address: client.account.address,
        token: client.account.token,
        relay: new Pool(home.services.relay.baseUrl, { connections: 4, localAddress: loopbackSource(1, index), headersTimeout: 120_000 }),
      });
    }
  }
  return devices;
}

function histogramOf(byPhase: Map<string, LatencyHistogram>, key: string): LatencyHistogram {
  let histogram = byPhase.get(key);
  if (!histogram) byPhase.set(key, (histogram = new LatencyHistogram()));
  return histogram;
}

export class LegitLoad {
  private readonly latencyByPhase = new Map<string, LatencyHistogram>();
  private readonly issueLagByPhase = new Map<string, LatencyHistogram>();
  readonly receivers: WsReceiver[] = [];
  private pool: SealedSend[] = [];

  constructor(
    readonly devices: LegitDevice[],
    readonly ledger: DeliveryLedger,
    private timeline?: AbuseTimeline,
  ) {}

  /** Connects every device's socket to its home relay and waits until each has drained its queue. */
  async connect(into: WsReceiver[]): Promise<void> {
    const onEnvelope = (envelope: ReceivedEnvelope, receiver: WsReceiver, now: bigint): void => this.onEnvelope(envelope, receiver, now);
    for (const home of new Set(this.devices.map((d) => d.home))) {
      const wsUrl = `${home.services.relay.baseUrl.replace(/^http/, 'ws')}/v1/websocket`;
      const mine = this.devices.filter((d) => d.home === home);
      this.receivers.push(...(await connectAllDrained(wsUrl, mine, onEnvelope, into, (i) => `legit socket ${i}`)));
    }
  }

  /**
   * One identified send each way between the servers, one at a time, before the load: a gateway
   * fetches and pins its peer's keys on first contact, and concurrent first contacts are refused.
   */
  async primeFederation(): Promise<void> {
    for (const home of new Set(this.devices.map((d) => d.home))) {
      const from = this.devices.find((d) => d.home === home)!;
      const to = this.devices.find((d) => d.home !== home);
      if (to) await from.client.send(to.address, 'prime', { sealed: false, sync: false });
    }
  }

  /**
   * Seals the run's messages with the SDK (not measured): each device gets a few contacts on
   * either server, sessions are set up with them (bundles claimed, key transparency checked),
   * then `min(total, SEALED_POOL)` messages, each to a random contact of a random device, whose
   * content is the ledger's (magic, seq) header and random bytes.
   */
  async sealPool(): Promise<void> {
    const contacts = new Map<LegitDevice, LegitDevice[]>();
    for (const from of this.devices) {
      const others = this.devices.filter((d) => d !== from).sort(() => Math.random() - 0.5);
      contacts.set(from, others.slice(0, Math.min(CONTACTS_PER_DEVICE, others.length)));
    }
    const size = Math.min(this.ledger.total, SEALED_POOL);
    const bySender = new Map<LegitDevice, number[]>();
    for (let i = 0; i < size; i++) {
      const from = this.devices[Math.floor(Math.random() * this.devices.length)];
      const slots = bySender.get(from) ?? [];
      if (slots.length === 0) bySender.set(from, slots);
      slots.push(i);
    }
    const pool: SealedSend[] = new Array(size);
    // One sender's seals run in turn (its sessions advance); senders in parallel.
    await mapConcurrent([...bySender], 8, async ([from, slots]) => {
      const mine = contacts.get(from)!;
      for (const slot of slots) {
        const to = mine[Math.floor(Math.random() * mine.length)];
        pool[slot] = { from, to, prepared: await from.client.prepareSend(to.address, this.ledger.content(slot)) };
      }
    });
    this.pool = pool;
  }

  /** The schedule the phases are judged by (known once the ledger's clock has started). */
  useTimeline(timeline: AbuseTimeline): void {
    this.timeline = timeline;
  }

  private onEnvelope(envelope: ReceivedEnvelope, receiver: WsReceiver, now: bigint): void {
    const seq = this.ledger.receive(envelope, receiver.index, now);
    if (seq === undefined || this.ledger.receivedCount[seq] !== 1) return;
    const phase = this.timeline?.phaseAt(this.ledger.intended(seq));
    if (!phase) return;
    histogramOf(this.latencyByPhase, `${phase.attack}:${phase.part}`).recordSince(this.ledger.intended(seq));
  }

  /** Send `seq`: the next pre-sealed message of the pool, sealed or identified at even odds. */
  async send(seq: number): Promise<void> {
    const phase = this.timeline?.phaseAt(this.ledger.intended(seq));
    if (phase) histogramOf(this.issueLagByPhase, `${phase.attack}:${phase.part}`).recordSince(this.ledger.intended(seq));
    const { from, to, prepared } = this.pool[seq % this.pool.length];
    this.ledger.recipientOf[seq] = to.index;
    for (const envelope of prepared.messages) this.ledger.bindSealed(seq, envelope.content);
    const sealed = Math.random() < 0.5;
    const body = JSON.stringify({ timestamp: Date.now(), messages: prepared.messages });
    const auth: Record<string, string> = sealed
      ? { 'unidentified-access-key': to.client.account.accessKey }
      : { authorization: `Bearer ${from.token}` };
    await this.ledger.send(from.relay, seq, {
      method: 'PUT',
      path: `/v1/messages/${encodeURIComponent(to.address)}`,
      body,
      headers: { 'content-type': 'application/json', ...auth },
    });
  }

  /** Figures of the sends whose intended time falls in that phase (call after the drain). */
  figures(attack: number, part: PhasePart): PhaseFigures {
    const out: PhaseFigures = { sends: 0, errors: 0, lost: 0, p50Ms: 0, p99Ms: 0, delivered: 0, issueLagP99Ms: 0, issueLagMaxMs: 0 };
    for (let seq = 0; seq < this.ledger.total; seq++) {
      const phase = this.timeline?.phaseAt(this.ledger.intended(seq));
      if (!phase || phase.attack !== attack || phase.part !== part) continue;
      out.sends++;
      const ok = this.ledger.isOk(seq);
      if (!ok) out.errors++;
      if (ok && this.ledger.receivedCount[seq] === 0) out.lost++;
      if (this.ledger.receivedCount[seq] > 0) out.delivered++;
    }
    const histogram = this.latencyByPhase.get(`${attack}:${part}`);
    if (histogram) {
      out.p50Ms = histogram.percentileMs(50);
      out.p99Ms = histogram.percentileMs(99);
    }
    const issueLag = this.issueLagByPhase.get(`${attack}:${part}`);
    if (issueLag) {
      out.issueLagP99Ms = issueLag.percentileMs(99);
      out.issueLagMaxMs = issueLag.maxMs;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.relay.close()));
    await Promise.all(this.devices.map((d) => d.client.close()));
  }
}
