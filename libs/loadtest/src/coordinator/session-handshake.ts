import { randomUUID } from 'node:crypto';
import { OutgoingEnvelope, SealpostClient } from '@sealpost/client';
import type { EnvelopeJson } from '@sealpost/contracts';
import type { LoadPopulation, StoreSnapshot } from '../accounts/load-accounts.types';
import { SnapshotClientStore } from '../accounts/snapshot-client-store';
import type { ResolvedTarget } from '../targets/resolved-target';

const LANES = 8;
const nowMs = () => performance.timeOrigin + performance.now();

/** An envelope as a recipient's socket would hand it over (sealed sender: no source). */
function asDelivered(message: OutgoingEnvelope): EnvelopeJson {
  const now = Date.now();
  return {
    id: randomUUID(),
    type: message.type,
    destinationDevice: message.deviceId,
    clientTimestamp: now,
    serverTimestamp: now,
    content: message.content,
  };
}

/**
 * Makes the run's messages what a conversation's messages are: every sender and each device of
 * each of its contacts exchange one message each way, in the devices' own client state (the SDK
 * seals and opens, KT checks included; the envelopes are handed over directly, not through the
 * relay), so a sender's session to each device is acknowledged and the pool holds ordinary
 * Double Ratchet messages — not first-contact PreKey messages, which carry the PQXDH ciphertext
 * (a few KiB) and stay that way as long as nobody answers. Updates `stores` in place.
 */
export async function establishSessions(
  population: LoadPopulation,
  stores: Map<number, StoreSnapshot>,
  targets: ResolvedTarget[],
  log: (line: string) => void,
): Promise<void> {
  const started = nowMs();
  const servers = Object.fromEntries(targets.map((t) => [t.serverName, t.discoveryUrl]));
  const clients = new Map<number, { store: SnapshotClientStore; client: Promise<SealpostClient> }>();
  const client = (device: number) => {
    let opened = clients.get(device);
    if (!opened) {
      const store = new SnapshotClientStore(stores.get(device));
      opened = { store, client: SealpostClient.open({ store, servers }) };
      clients.set(device, opened);
    }
    return opened.client;
  };
  const senders = population.devices.filter((d) => d.sender);
  let pairs = 0;
  let next = 0;
  const lane = async () => {
    while (next < senders.length) {
      const sender = senders[next++];
      const me = await client(sender.index);
      const myAddress = population.accounts[sender.account].address;
      for (const contact of new Set(sender.contacts!.flat())) {
        const account = population.accounts[contact];
        const first = await me.prepareSend(account.address, 'loadtest: hello');
        for (const message of first.messages) {
          const device = account.devices.find((d) => population.devices[d].deviceId === message.deviceId);
          if (device === undefined) continue;
          const them = await client(device);
          await them.openEnvelope(asDelivered(message));
          const reply = await them.prepareSend(myAddress, 'loadtest: hello back');
          const mine = reply.messages.find((m) => m.deviceId === sender.deviceId);
          if (mine) await me.openEnvelope(asDelivered(mine));
          pairs++;
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(LANES, senders.length) }, lane));
  } finally {
    for (const [device, opened] of clients) {
      const c = await opened.client.catch(() => undefined);
      if (!c) continue;
      await c.close();
      stores.set(device, opened.store.snapshot());
    }
  }
  log(`sessions established: ${pairs} sender → device pairs answered each other (${((nowMs() - started) / 1000).toFixed(1)} s)`);
}
