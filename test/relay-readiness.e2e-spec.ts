import { TestAccount, registerAccount } from './support/accounts';
import { primary, send } from './support/relay-testkit';
import { ServiceProcess, assertBuilt, builtServiceEnv, freePort, startServiceProcess } from './support/service-process';

/**
 * Readiness means able to serve. The moment a freshly started relay's /healthz answers 200
 * (polled every 10 ms by startServiceProcess), an authenticated send — which asks the directory
 * over the bus who the token belongs to and which devices the recipient has — must succeed.
 * The relay's bus round trip to the directory is part of readiness: while the directory does
 * not answer (held here with SIGSTOP, as one that is still starting or restarting), the relay
 * must answer 503, not 200 followed by sends that time out after 5 s.
 * /healthz/live answers 200 whenever the process serves HTTP.
 */

const DIRECTORY_ENTRY = 'apps/prekey-directory/src/main.js';
const RELAY_ENTRY = 'apps/relay/src/main.js';
/** Longer than the relay's bus timeout (5 s): a send let through while the directory is held fails. */
const DIRECTORY_HELD_MS = 6000;

describe('relay readiness (built processes)', () => {
  const children: ServiceProcess[] = [];
  let env: Record<string, string>;
  let directory: ServiceProcess;
  let sender: TestAccount;
  let recipient: TestAccount;

  async function startRelay(): Promise<ServiceProcess> {
    const port = await freePort();
    const relay = await startServiceProcess(RELAY_ENTRY, { ...env, RELAY_PORT: String(port) }, port, 10);
    children.push(relay);
    return relay;
  }

  beforeAll(async () => {
    assertBuilt(DIRECTORY_ENTRY, RELAY_ENTRY);
    const directoryPort = await freePort();
    env = builtServiceEnv({
      DIRECTORY_PORT: String(directoryPort),
    });
    directory = await startServiceProcess(DIRECTORY_ENTRY, env, directoryPort);
    children.push(directory);
    sender = await registerAccount(directory.url, { stem: 'ready-sender' });
    recipient = await registerAccount(directory.url, { stem: 'ready-rcpt' });
  }, 60_000);

  afterAll(async () => {
    directory?.child.kill('SIGCONT');
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
  });

  it('a cold relay serves an authenticated send the moment /healthz first says 200; /healthz/live is 200', async () => {
    const relay = await startRelay();
    const answer = await send(relay.url, recipient.address, [primary(recipient)], 'ready cold', { token: sender.token });
    expect({ status: answer.status, error: answer.body?.error }).toEqual({ status: 200, error: undefined });
    expect((await fetch(`${relay.url}/healthz/live`)).status).toBe(200);
  }, 60_000);

  it('is not ready while the directory does not answer over the bus, and serves at once when it says 200', async () => {
    directory.child.kill('SIGSTOP');
    let relayAnswered = false;
    // The directory is let go only DIRECTORY_HELD_MS after the relay first answers HTTP at all.
    const release = (async () => {
      while (!relayAnswered) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, DIRECTORY_HELD_MS));
      directory.child.kill('SIGCONT');
    })();
    const port = await freePort();
    const starting = startServiceProcess(RELAY_ENTRY, { ...env, RELAY_PORT: String(port) }, port, 10);
    const seen: number[] = [];
    const watch = (async () => {
      const deadline = Date.now() + 60_000;
      while (!relayAnswered && Date.now() < deadline) {
        const status = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 0) {
          seen.push(status);
          relayAnswered = true;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const relay = await starting;
      children.push(relay);
      const answer = await send(relay.url, recipient.address, [primary(recipient)], 'ready after directory', { token: sender.token });
      expect({ status: answer.status, error: answer.body?.error }).toEqual({ status: 200, error: undefined });
      // While the directory was held, the relay said 503, never 200.
      expect(seen[0]).toBe(503);
    } finally {
      relayAnswered = true;
      await watch;
      await release;
    }
  }, 90_000);
});
