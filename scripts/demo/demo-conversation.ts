import { MemoryClientStore, ReceivedMessage, SealpostClient, SendReport } from '@sealpost/client';

type Say = (line: string) => void;

/** A device of the demo, printing what it decrypts. */
class DemoDevice {
  readonly received: ReceivedMessage[] = [];
  constructor(
    readonly label: string,
    readonly client: SealpostClient,
    private readonly say: Say,
  ) {}

  async listen(): Promise<void> {
    this.client.on('undecryptable', (e) => this.say(`  ${this.label}: UNDECRYPTABLE envelope ${e.envelopeId}: ${e.reason}`));
    await this.client.connect((m) => {
      this.received.push(m);
      const what = m.syncTo !== undefined ? `sync copy of its own message to ${m.syncTo}` : `from ${m.from} device ${m.fromDevice}`;
      this.say(`  ${this.label}: delivered + decrypted ${what}, ${m.sealed ? 'sealed sender' : 'identified sender'}: "${m.text}"`);
    });
  }

  async waitFor(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.label} received ${this.received.length} of ${count} messages in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The conversation `npm run demo` shows: alice@alpha and bob@beta (bob with a linked second
 * device) talk both ways through their homeservers' federation, every message sealed by the
 * SDK (libsignal) and checked against the key-transparency log before the first encryption.
 */
export async function runConversation(servers: Record<string, string>, alpha: string, beta: string, say: Say): Promise<void> {
  const options = { servers, preKeyBatch: 10 };
  const clients: SealpostClient[] = [];
  const keep = (c: SealpostClient) => (clients.push(c), c);
  try {
    const alice = new DemoDevice(
      'alice',
      keep(await SealpostClient.register({ ...options, store: new MemoryClientStore(), server: alpha, localpart: 'alice' })),
      say,
    );
    say(`registered ${alice.client.account.address} (device ${alice.client.account.deviceId}) on ${alpha}`);
    const bob1 = new DemoDevice(
      'bob device 1',
      keep(await SealpostClient.register({ ...options, store: new MemoryClientStore(), server: beta, localpart: 'bob' })),
      say,
    );
    say(`registered ${bob1.client.account.address} (device ${bob1.client.account.deviceId}) on ${beta}`);

    // Linking: the new device shows a code, device 1 seals the account to it; the relay only relays.
    let approving: Promise<void> | undefined;
    const bob2Client = keep(
      await SealpostClient.link({
        ...options,
        store: new MemoryClientStore(),
        server: beta,
        onLinkCode: (code) => {
          say(`bob's new device shows link code ${code.slice(0, 48)}…`);
          approving = bob1.client.approveLink(code);
        },
      }),
    );
    await approving;
    const bob2 = new DemoDevice('bob device 2', bob2Client, say);
    say(`linked bob's second device: device ${bob2.client.account.deviceId} (provisioning sealed end to end, relayed by ${beta})`);

    await Promise.all([alice.listen(), bob1.listen(), bob2.listen()]);
    say('all three devices connected to their relays (WebSocket)');

    const bob = bob1.client.account.address;
    const check = await alice.client.verify(bob);
    say(`alice claimed bob's prekey bundle over federation (${alpha} → ${beta}): devices [${check.devices.join(', ')}]`);
    say(`KT inclusion verified: bob's identity key and devices are in ${beta}'s key-transparency log at a verified signed head`);
    say(`safety number alice ↔ bob: ${check.safetyNumber.match(/.{5}/g)!.join(' ')}`);

    say('');
    sent(say, 'alice → bob', await alice.client.send(bob, 'Hi Bob, this is Alice on alpha.'));
    await Promise.all([bob1.waitFor(1), bob2.waitFor(1)]);

    say('');
    sent(say, 'bob (device 2) → alice', await bob2.client.send(alice.client.account.address, 'Hi Alice! Bob here, from my second device.'));
    await Promise.all([alice.waitFor(1), bob1.waitFor(2)]);

    say('');
    sent(say, 'alice → bob', await alice.client.send(bob, 'Both of your devices get this one, sealed.'));
    await Promise.all([bob1.waitFor(3), bob2.waitFor(2)]);
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
  }
}

function sent(say: Say, who: string, report: SendReport): void {
  say(
    `${who}: encrypted (PQXDH + Double Ratchet) to devices [${report.devices.join(', ')}], ` +
      `${report.sealed ? 'SEALED sender (the servers do not learn who sent it)' : 'identified sender (no access key known yet)'}, ` +
      `envelope ${report.envelopeBytes.join(' + ')} bytes` +
      (report.syncedDevices.length > 0 ? `, sync copy to own devices [${report.syncedDevices.join(', ')}]` : ''),
  );
}
