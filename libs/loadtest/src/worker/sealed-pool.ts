import type { SealpostClient } from '@sealpost/client';
import { contactKind } from '../accounts/contact-plan';
import type { LoadPopulation } from '../accounts/load-accounts.types';
import type { LoadOptions } from '../options/load-options';
import { messageBody } from './message-body';

/** One pre-sealed message: the request that sends it, but for the per-send `timestamp`. */
export interface PoolEntry {
  sender: number;
  recipient: number;
  /** The sender's home target (whose relay takes the request). */
  target: number;
  path: string;
  /** The JSON body after `{"timestamp":<key>` — the sealed envelopes, one per recipient device. */
  bodyTail: string;
  devices: number;
}

const SEAL_CONCURRENCY = 4;

/**
 * A worker's pre-sealed messages, made with the client SDK before the clock starts (sealing is
 * the client's CPU, not the servers' load): entry k is sent by the worker's sender k mod S to one
 * of that sender's contacts (planContacts), drawn with the run's federated and multi-device shares, with a
 * plaintext size drawn from the size range. One sender's entries are sealed in order (its
 * sessions advance); senders in parallel.
 */
export async function sealPool(args: {
  size: number;
  worker: number;
  runTag: number;
  options: LoadOptions;
  population: LoadPopulation;
  clients: Map<number, SealpostClient>;
}): Promise<PoolEntry[]> {
  const { population, options } = args;
  const senders = [...args.clients.keys()].sort((a, b) => a - b);
  const plan = Array.from({ length: args.size }, (_, slot) => {
    const sender = population.devices[senders[slot % senders.length]];
    const home = population.accounts[sender.account];
    const recipient =
      population.accounts[pickContact(sender.contacts!, Math.random() < options.federatedShare, Math.random() < options.multiDeviceShare)];
    const size = options.size.min + Math.floor(Math.random() * (options.size.max - options.size.min + 1));
    return { slot, sender: sender.index, home, recipient, size };
  });
  const entries: PoolEntry[] = new Array(args.size);
  const bySender = new Map<number, typeof plan>();
  for (const item of plan) {
    const list = bySender.get(item.sender);
    if (list) list.push(item);
    else bySender.set(item.sender, [item]);
  }
  const queue = [...bySender.values()];
  const lane = async (): Promise<void> => {
    for (let items = queue.shift(); items; items = queue.shift()) {
      for (const item of items) {
        const client = args.clients.get(item.sender)!;
        const body = messageBody({ runTag: args.runTag, worker: args.worker, slot: item.slot, sender: item.sender }, item.size);
        const prepared = await client.prepareSend(item.recipient.address, body);
        entries[item.slot] = {
          sender: item.sender,
          recipient: item.recipient.index,
          target: item.home.target,
          path: `/v1/messages/${encodeURIComponent(item.recipient.address)}`,
          bodyTail: `,"messages":${JSON.stringify(prepared.messages)}}`,
          devices: prepared.messages.length,
        };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEAL_CONCURRENCY, queue.length) }, lane));
  return entries;
}

/** One of the sender's contacts, of the kind drawn if it has one, else of the nearest kind it has (same side first). */
function pickContact(contacts: number[][], remote: boolean, multi: boolean): number {
  const order: [boolean, boolean][] = [
    [remote, multi],
    [remote, !multi],
    [!remote, multi],
    [!remote, !multi],
  ];
  for (const [r, m] of order) {
    const list = contacts[contactKind(r, m)];
    if (list.length > 0) return list[Math.floor(Math.random() * list.length)];
  }
  throw new Error('a sender without contacts');
}
