import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { RunningHomeserver, startHomeserver } from '../support/homeserver-harness';
import { TestAccount, registerAccount } from '../support/accounts';
import { eventually } from '../support/bus-listener';
import { JsonAnswer } from '../support/http';
import { outboxRows, serverPool, storedFor } from '../support/federation-testkit';
import { primary, send } from '../support/relay-testkit';

/**
 * Issue 8, defects 5 and 6: what the relay answers for a send to another homeserver when its
 * hand-off to the federation gateway (a bus request) does not get an answer.
 *
 * - The gateway got the request but answered too late: the envelopes may be stored (they were,
 *   123 times out of 128), so the answer must not say "nothing was stored"; a retry with the same
 *   Idempotency-Key must store nothing twice, neither in the outbox nor at the peer.
 * - No gateway listens at all: nothing can have been stored, and the relay knows it at once
 *   (PUBLISH reached no subscriber), so it answers 503 federation_unavailable without waiting.
 */

jest.setTimeout(120_000);

/**
 * Holds an ACCESS EXCLUSIVE lock on the gateway's outbox: its hand-off (which reads the outbox
 * before sending) waits on it, longer than the relay waits for the gateway's answer.
 */
async function lockOutbox(hs: FederatedHomeserver): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: hs.gatewayConfig.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE federation.outbox IN ACCESS EXCLUSIVE MODE');
  return {
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

function expectOutcomeUnknown(answer: JsonAnswer): void {
  expect(answer.status).toBe(504);
  expect(answer.body.error).toBe('outcome_unknown');
  expect(answer.body.message).toMatch(/may have been stored/);
  expect(answer.body.message).toMatch(/same Idempotency-Key/);
  expect(answer.body.message).not.toMatch(/nothing was stored/);
}

describe('a remote send whose hand-off to the gateway times out', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let alphaDb: Pool;
  let betaDb: Pool;
  let alice: TestAccount;

  beforeAll(async () => {
    // The relay gives the gateway 500 ms; the locked outbox keeps the gateway busy for longer.
    [alpha, beta] = await startFederation(['alpha.test', 'beta.test'], { 'alpha.test': { FEDERATION_HANDOFF_TIMEOUT_MS: '500' } });
    alphaDb = serverPool(alpha);
    betaDb = serverPool(beta);
    alice = await registerAccount(alpha.directoryUrl, { stem: 'handoff-alice' });
    // A first send makes beta a destination alpha's relay has a verdict on: the sends below go
    // straight to the hand-off (a destination never sent to is first asked about, and that
    // question, waiting on the locked outbox too, would be answered "nothing was stored").
    const warm = await registerAccount(beta.directoryUrl, { stem: 'handoff-warm' });
    expect((await send(alpha.relayUrl, warm.address, [primary(warm)], 'warm-up', { token: alice.token })).status).toBe(200);
  });
  beforeEach(async () => {
    if (!beta.gateway) await beta.startGateway();
    await eventually(async () => (await outboxRows(alphaDb, 'beta.test')) === 0, 20_000);
  });
  afterAll(async () => {
    await alphaDb?.end();
    await betaDb?.end();
    await alpha?.close();
    await beta?.close();
  });

  it('answers 504 outcome_unknown (not "nothing was stored"), and a retry with the same Idempotency-Key is delivered once', async () => {
    const bob = await registerAccount(beta.directoryUrl, { stem: 'handoff-bob' });
    const idempotencyKey = randomUUID();
    const lock = await lockOutbox(alpha);
    let first: JsonAnswer;
    try {
      first = await send(alpha.relayUrl, bob.address, [primary(bob)], 'late hand-off', { token: alice.token, idempotencyKey });
    } finally {
      await lock.release();
    }
    expectOutcomeUnknown(first);
    // The gateway finishes the hand-off after the relay gave up: the peer has it.
    await eventually(async () => (await storedFor(betaDb, bob.accountId)) === 1, 20_000);

    const retry = await send(alpha.relayUrl, bob.address, [primary(bob)], 'late hand-off', { token: alice.token, idempotencyKey });
    expect(retry.status).toBe(200);
    await eventually(async () => (await outboxRows(alphaDb, 'beta.test')) === 0, 20_000);
    expect(await storedFor(betaDb, bob.accountId)).toBe(1);
  });

  it('a retry with the same Idempotency-Key while the peer is down is kept in the outbox once, then delivered once', async () => {
    const bob = await registerAccount(beta.directoryUrl, { stem: 'handoff-bob' });
    await beta.stopGateway();
    const idempotencyKey = randomUUID();
    const lock = await lockOutbox(alpha);
    let first: JsonAnswer;
    try {
      first = await send(alpha.relayUrl, bob.address, [primary(bob)], 'kept hand-off', { token: alice.token, idempotencyKey });
    } finally {
      await lock.release();
    }
    expectOutcomeUnknown(first);
    // The gateway, once unblocked, keeps the delivery in its outbox (the peer is down).
    await eventually(async () => (await outboxRows(alphaDb, 'beta.test', alice.accountId)) === 1, 20_000);

    const retry = await send(alpha.relayUrl, bob.address, [primary(bob)], 'kept hand-off', { token: alice.token, idempotencyKey });
    expect(retry.status).toBe(200);
    expect(await outboxRows(alphaDb, 'beta.test', alice.accountId)).toBe(1);

    await beta.startGateway();
    await eventually(async () => (await outboxRows(alphaDb, 'beta.test')) === 0, 30_000);
    expect(await storedFor(betaDb, bob.accountId)).toBe(1);
  });
});

describe('a remote send with no federation gateway listening', () => {
  let hs: RunningHomeserver;

  beforeAll(async () => {
    // A bus timeout far beyond the test's bound: an answer within the bound proves the relay did not wait for it.
    hs = await startHomeserver({ env: { FEDERATION_HANDOFF_TIMEOUT_MS: '600000' } });
  });
  afterAll(async () => {
    await hs?.close();
  });

  it('answers 503 federation_unavailable at once: the request reached no gateway, so nothing was stored', async () => {
    const alice = await registerAccount(hs.directoryUrl, { stem: 'nogw-alice' });
    const bound = new Promise<'no answer'>((resolve) => {
      const t = setTimeout(() => resolve('no answer'), 20_000);
      t.unref();
    });
    const answer = await Promise.race([
      send(hs.relayUrl, 'bob@beta.test', [{ deviceId: 1, registrationId: 1 }], 'to nobody', {
        token: alice.token,
        idempotencyKey: randomUUID(),
      }),
      bound,
    ]);
    expect(answer).not.toBe('no answer');
    const { status, body, headers } = answer as JsonAnswer;
    expect(status).toBe(503);
    expect(body.error).toBe('federation_unavailable');
    expect(body.message).toMatch(/nothing was stored/);
    expect(headers.get('retry-after')).toBe('1');
  });
});
