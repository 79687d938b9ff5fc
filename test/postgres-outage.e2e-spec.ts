import { randomBytes } from 'node:crypto';
import { TestAccount, registerAccount } from './support/accounts';
import { eventually } from './support/bus-listener';
import { RunningHomeserver, startHomeserver } from './support/homeserver-harness';
import { JsonAnswer, call } from './support/http';
import { OutputTap } from './support/output-tap';
import { PrivatePostgres } from './support/postgres-server';
import { primary, send } from './support/relay-testkit';

/**
 * Postgres outages as clients and operators see them (a homeserver in this process on a private
 * Postgres): a request that needs the database answers 503 `{error: "unavailable", message}`
 * with Retry-After — never 500, never hanging — and the outage is logged once when it starts and
 * once when it ends, not per request. /healthz answers 503 within its bound while Postgres is
 * frozen, and everything serves again afterwards.
 */

/** A bounded wait for an answer: `null` when none came within `ms` (the defect: a hanging request). */
async function answerWithin(request: Promise<JsonAnswer>, ms: number): Promise<JsonAnswer | null> {
  let timer: NodeJS.Timeout | undefined;
  const none = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([request, none]);
  } finally {
    clearTimeout(timer);
  }
}

const summary = (a: JsonAnswer | null) => a && { status: a.status, error: a.body?.error, retryAfter: a.headers.get('retry-after') };

describe('Postgres outages (private Postgres)', () => {
  let pg: PrivatePostgres;
  let hs: RunningHomeserver;
  let tap: OutputTap;
  let sender: TestAccount;
  let recipient: TestAccount;
  const sendOne = (tag: string) =>
    send(hs.relayUrl, recipient.address, [primary(recipient)], `${tag} ${randomBytes(4).toString('hex')}`, { token: sender.token });

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    tap = new OutputTap();
    hs = await startHomeserver({
      env: { DATABASE_URL: pg.url('sealpost'), LOG_LEVEL: 'log', SEND_RATE_BURST: '100000', SEND_RATE_PER_MINUTE: '1000000' },
    });
    sender = await registerAccount(hs.directoryUrl, { stem: 'outage-sender' });
    recipient = await registerAccount(hs.directoryUrl, { stem: 'outage-rcpt' });
    // Warms the relay's token and device-list caches: later sends need only the relay's own tables.
    expect((await sendOne('warm')).status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    tap?.close();
    pg?.thaw();
    await hs?.close();
    await pg?.destroy();
  });

  it('answers 503 unavailable with Retry-After during a restart, never 500, and logs the outage once', async () => {
    const outagesLogged = () => ({
      relay: tap.matching(/Postgres unavailable to sealpost-relay /).length,
      directory: tap.matching(/Postgres unavailable to sealpost-directory /).length,
    });
    const before = outagesLogged();
    const answers: JsonAnswer[] = [];
    let sending = true;
    const senders = Array.from({ length: 4 }, async () => {
      while (sending) answers.push(await sendOne('restart'));
    });
    await eventually(() => answers.length >= 5, 20_000);
    await pg.restart('fast');
    await eventually(async () => (await sendOne('after')).status === 200, 30_000);
    sending = false;
    await Promise.all(senders);

    const refused = answers.filter((a) => a.status !== 200);
    expect(refused.map(summary).filter((a) => a!.status !== 503 || a!.error !== 'unavailable' || a!.retryAfter === null)).toEqual([]);
    expect(tap.matching(/unexpected|Connection terminated|at .*\.js:\d+/)).toEqual([]);
    // One line per service when the outage starts (the relay's sends saw it), one when it ends.
    const after = outagesLogged();
    expect(after.relay - before.relay).toBe(1);
    expect(after.directory - before.directory).toBeLessThanOrEqual(1);
    await eventually(() => tap.matching(/Postgres is back for sealpost-relay /).length === after.relay, 10_000);
  }, 90_000);

  it('answers a send 503 and /healthz 503 promptly while Postgres is frozen, and serves again after', async () => {
    pg.freeze();
    try {
      const health = await answerWithin(call('GET', `${hs.relayUrl}/healthz`), 5000);
      expect(summary(health)).toMatchObject({ status: 503, error: 'unavailable' });
      const sent = await answerWithin(sendOne('frozen'), 20_000);
      expect(summary(sent)).toEqual({ status: 503, error: 'unavailable', retryAfter: expect.any(String) });
      const directoryHealth = await answerWithin(call('GET', `${hs.directoryUrl}/healthz`), 5000);
      expect(summary(directoryHealth)).toMatchObject({ status: 503, error: 'unavailable' });
      expect((await call('GET', `${hs.relayUrl}/healthz/live`)).status).toBe(200);
    } finally {
      pg.thaw();
    }
    await eventually(async () => (await call('GET', `${hs.relayUrl}/healthz`)).status === 200, 30_000);
    expect((await sendOne('thawed')).status).toBe(200);
    const metrics = await (await fetch(`${hs.relayUrl}/metrics`)).text();
    expect(metrics).toMatch(/sealpost_dependency_outages_total\{dependency="postgres"\} [1-9]/);
  }, 90_000);
});
