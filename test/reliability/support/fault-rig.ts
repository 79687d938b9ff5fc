import { Client } from 'pg';
import { RunningHomeserver, ServiceExit, startFederation } from '../../../bench/support/federated-homeservers';
import type { ServiceProcess } from '../../../bench/support/service-process';
import { PrivatePostgres } from '../../support/postgres-server';
import { PrivateRedis } from '../../support/redis-server';
import { sleep } from '../../support/send-stream';
import { SealedAccount, registerWithAccessKey } from '../../support/relay-testkit';
import type { RecipientDevice, SenderDevice } from './pair-load';
import { ReconnectingReceiver } from './reconnecting-receiver';
import { UNLIMITED_RELAY_RATES } from '../../../bench/support/unlimited-rates';

/**
 * Federation retry back-off for the suite: the outbox retries a destination after 200 ms, doubling
 * (jittered) up to 5 s, so a peer that comes back is tried again well inside the recovery bound.
 */
const RETRY_ENV = { FEDERATION_RETRY_BASE_MS: '200', FEDERATION_RETRY_MAX_MS: '5000' };
const OUTBOX_BACKLOG = 'SELECT count(*)::int AS n FROM federation.outbox';
const LOG_LINES_KEPT = 200;
/** A supervisor's patience when a service will not start again after a fault. */
const HEAL_ATTEMPTS = 5;
const HEAL_RETRY_MS = 2000;

/**
 * The world of the faults suite: one private Postgres cluster (both homeservers' databases) and a
 * private Redis per homeserver, on spare loopback ports, never the shared servers; two complete
 * homeservers alpha.test and beta.test (directory, relay, gateway: six BUILT child processes from
 * dist/); on each, two sender devices (one identified, one sealed) and two recipient devices held
 * online by ReconnectingReceivers. Every sender sends to every recipient, so each sender has two
 * local and two federated pairs.
 */
export class FaultRig {
  readonly senders: SenderDevice[] = [];
  readonly recipients: RecipientDevice[] = [];
  readonly receivers = new Map<string, ReconnectingReceiver>();

  private constructor(
    readonly postgres: PrivatePostgres,
    readonly redis: Record<'alpha' | 'beta', PrivateRedis>,
    readonly alpha: RunningHomeserver,
    readonly beta: RunningHomeserver,
    private readonly logTail: Map<string, string[]>,
  ) {}

  static async start(): Promise<FaultRig> {
    const postgres = await PrivatePostgres.create();
    const redis = { alpha: await PrivateRedis.start(), beta: await PrivateRedis.start() };
    const logTail = new Map<string, string[]>();
    const holder = { services: [] as ServiceProcess[] };
    const env = { relay: UNLIMITED_RELAY_RATES, gateway: RETRY_ENV };
    try {
      const [alpha, beta] = await startFederation(
        [
          { label: 'alpha', serverName: 'alpha.test', databaseUrl: postgres.url('sealpost_faults_alpha'), redisUrl: redis.alpha.url, env },
          { label: 'beta', serverName: 'beta.test', databaseUrl: postgres.url('sealpost_faults_beta'), redisUrl: redis.beta.url, env },
        ],
        {
          onLine: (name, line) => {
            const lines = logTail.get(name) ?? [];
            lines.push(`${new Date().toISOString()} ${line}`);
            if (lines.length > LOG_LINES_KEPT) lines.shift();
            logTail.set(name, lines);
          },
        },
        holder,
      );
      const rig = new FaultRig(postgres, redis, alpha, beta, logTail);
      await rig.enrol();
      return rig;
    } catch (error) {
      await Promise.all(holder.services.map((s) => s.stop(1000).catch(() => undefined)));
      await Promise.all([postgres.destroy(), redis.alpha.kill(), redis.beta.kill()]);
      const output = [...logTail].map(([name, lines]) => `--- ${name} ---\n${lines.slice(-20).join('\n')}`).join('\n');
      throw new Error(`${(error as Error).message}\n${output}`);
    }
  }

  relayUrl(hs: RunningHomeserver): string {
    return `http://127.0.0.1:${hs.ports.relay}`;
  }

  directoryUrl(hs: RunningHomeserver): string {
    return `http://127.0.0.1:${hs.ports.directory}`;
  }

  /** The homeserver name of a device's account. */
  serverOf(device: { account: SealedAccount }): string {
    return device.account.address.split('@')[1];
  }

  private async enrol(): Promise<void> {
    for (const hs of [this.alpha, this.beta]) {
      for (const [i, sealed] of [false, true].entries()) {
        this.senders.push({
          label: `${hs.label}-s${i}`,
          relayUrl: this.relayUrl(hs),
          account: await registerWithAccessKey(this.directoryUrl(hs), `${hs.label}-s${i}`),
          sealed,
        });
      }
      for (const i of [0, 1]) {
        const recipient = { label: `${hs.label}-r${i}`, account: await registerWithAccessKey(this.directoryUrl(hs), `${hs.label}-r${i}`) };
        this.recipients.push(recipient);
        const receiver = new ReconnectingReceiver(recipient.label, this.relayUrl(hs), recipient.account.token);
        this.receivers.set(recipient.label, receiver);
        await receiver.start();
      }
    }
  }

  /** Service exits nobody asked for (a crash) since `since`, as `alpha-relay: code 1`. */
  unexpectedExitsSince(since: number): string[] {
    const describe = (label: string) => (e: ServiceExit) => `${label}-${e.kind}: ${e.signal ?? `code ${e.code}`}`;
    return [
      ...this.alpha.exits.filter((e) => !e.expected && e.at >= since).map(describe('alpha')),
      ...this.beta.exits.filter((e) => !e.expected && e.at >= since).map(describe('beta')),
    ];
  }

  /** Rows in a homeserver's federation outbox (envelopes waiting for a peer). */
  async outboxBacklog(hs: RunningHomeserver): Promise<number> {
    const client = new Client({ connectionString: hs.databaseUrl });
    await client.connect();
    try {
      return (await client.query<{ n: number }>(OUTBOX_BACKLOG)).rows[0].n;
    } finally {
      await client.end();
    }
  }

  /**
   * Puts the world back between faults, as an operator's supervisor would: Postgres thawed and
   * running, both Redis servers up, every service that ended (killed or crashed) started again;
   * with `restartAll`, every service of both homeservers stopped and started again first.
   */
  async heal(options: { restartAll?: boolean } = {}): Promise<void> {
    this.postgres.thaw();
    if (!this.postgres.running) await this.postgres.start();
    for (const redis of Object.values(this.redis)) await redis.start();
    if (options.restartAll) for (const hs of [this.alpha, this.beta]) await hs.stopServices();
    for (let attempt = 1; ; attempt++) {
      try {
        for (const hs of [this.alpha, this.beta]) await hs.startServices();
        break;
      } catch (error) {
        if (attempt === HEAL_ATTEMPTS) throw new Error(`services could not be started again: ${(error as Error).message}\n${this.logs()}`);
        await sleep(HEAL_RETRY_MS);
      }
    }
    for (const receiver of this.receivers.values()) await receiver.waitOnline();
  }

  /** The last lines each service wrote (for a failure message). */
  logs(): string {
    return [...this.logTail].map(([name, lines]) => `--- ${name} ---\n${lines.slice(-40).join('\n')}`).join('\n');
  }

  async stop(): Promise<void> {
    for (const receiver of this.receivers.values()) await receiver.stop();
    this.postgres.thaw();
    await Promise.all([this.alpha.stop(), this.beta.stop()]);
    await Promise.all([this.postgres.destroy(), this.redis.alpha.kill(), this.redis.beta.kill()]);
  }
}
