/**
 * The legitimate load of the abuse bench: accounts with one device each on both homeservers, each
 * device sending from its own loopback source address (127.0.1.x, as real clients come from many
 * addresses) to its home relay, half sealed (Unidentified-Access-Key) and half identified, to a
 * random other device on either server, every recipient socket connected and acking. Sends are
 * judged by the phase of their INTENDED time: delivery latency (intended → arrival), error share
 * (non-2xx or no answer) and lost (2xx'd, never delivered by the end of the drain).
 */
import { Pool } from 'undici';
import { AbuseTimeline, PhasePart } from './abuse-timeline';
import { mapConcurrent } from './closed-loop';
import { DeliveryLedger } from './delivery-ledger';
import type { RunningHomeserver } from './federated-homeservers';
import { LatencyHistogram } from './histogram';
import { Registered, postJson } from './homeserver';
import { benchAccountKeys } from './signal-devices';
import { ReceivedEnvelope, WsReceiver, connectAllDrained } from './ws-receiver';

/** Envelope types carried opaquely: libsignal whisper (identified) and sealed-sender. */
const WHISPER = 1;
const SEALED_SENDER = 6;

export interface LegitDevice extends Registered {
  index: number;
  home: RunningHomeserver;
  registrationId: number;
  unidentifiedAccessKey: string;
  /** Pool to the device's home relay, bound to the device's own loopback source address. */
  relay: Pool;
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

/** Registers `perServer` one-device accounts on each homeserver (not measured). */
export async function registerLegitDevices(homeservers: RunningHomeserver[], perServer: number, runTag: string): Promise<LegitDevice[]> {
  const devices: LegitDevice[] = [];
  for (const home of homeservers) {
    const directory = new Pool(home.services.directory.baseUrl, { connections: 8 });
    try {
      const registered = await mapConcurrent(
        Array.from({ length: perServer }, (_, i) => i),
        8,
        async (i) => {
          const keys = benchAccountKeys(`legit${runTag}${i}`);
          const account = await postJson<Registered>(directory, '/v1/accounts', keys.registration);
          return { account, keys };
        },
      );
      for (const { account, keys } of registered) {
        const index = devices.length;
        devices.push({
          ...account,
          index,
          home,
          registrationId: keys.registration.registrationId,
          unidentifiedAccessKey: keys.unidentifiedAccessKey,
          relay: new Pool(home.services.relay.baseUrl, { connections: 4, localAddress: loopbackSource(1, index), headersTimeout: 120_000 }),
        });
      }
    } finally {
      await directory.close();
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
      if (!to) continue;
      const answer = await from.relay.request({
        method: 'PUT',
        path: `/v1/messages/${encodeURIComponent(to.address)}`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${from.token}` },
        body: JSON.stringify({
          timestamp: Date.now(),
          messages: [{ deviceId: 1, registrationId: to.registrationId, type: WHISPER, content: 'AAAA' }],
        }),
      });
      const text = await answer.body.text();
      if (answer.statusCode !== 200)
        throw new Error(`priming send ${home.label} → ${to.home.label}: ${answer.statusCode} ${text.slice(0, 200)}`);
    }
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

  /** Send `seq`: a random device to a random other device, sealed or identified at even odds. */
  async send(seq: number): Promise<void> {
    const phase = this.timeline?.phaseAt(this.ledger.intended(seq));
    if (phase) histogramOf(this.issueLagByPhase, `${phase.attack}:${phase.part}`).recordSince(this.ledger.intended(seq));
    const from = this.devices[Math.floor(Math.random() * this.devices.length)];
    let to = this.devices[Math.floor(Math.random() * (this.devices.length - 1))];
    if (to === from) to = this.devices[this.devices.length - 1];
    this.ledger.recipientOf[seq] = to.index;
    const sealed = Math.random() < 0.5;
    const body = JSON.stringify({
      timestamp: Date.now(),
      messages: [
        {
          deviceId: 1,
          registrationId: to.registrationId,
          type: sealed ? SEALED_SENDER : WHISPER,
          content: this.ledger.content(seq).toString('base64'),
        },
      ],
    });
    const auth: Record<string, string> = sealed
      ? { 'unidentified-access-key': to.unidentifiedAccessKey }
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
  }
}
