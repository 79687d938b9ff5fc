import { SealpostClient } from '@sealpost/client';
import type { StoredAccount } from '../accounts/accounts-file';
import { SnapshotClientStore } from '../accounts/snapshot-client-store';
import type { ResolvedTarget } from '../targets/resolved-target';

const ATTEMPTS = 5;

/**
 * One identified send between every ordered pair of targets, one at a time, before the load: a
 * gateway fetches and pins a peer's keys on its first contact, and concurrent first contacts are
 * refused meanwhile. Sent from a throw-away copy of an account's state (the workers' copies stay
 * as they were); the recipients' sockets ack it as an envelope that is not the run's.
 */
export async function primeFederation(accounts: StoredAccount[], targets: ResolvedTarget[], log: (line: string) => void): Promise<void> {
  const servers = Object.fromEntries(targets.map((t) => [t.serverName, t.discoveryUrl]));
  for (const from of targets) {
    const sender = accounts.find((a) => a.server === from.serverName);
    if (!sender) continue;
    const client = await SealpostClient.open({ store: new SnapshotClientStore(sender.devices[0].store), servers });
    try {
      for (const to of targets) {
        const recipient = accounts.find((a) => a.server === to.serverName);
        if (to === from || !recipient) continue;
        for (let attempt = 1; ; attempt++) {
          try {
            await client.send(recipient.address, 'loadtest: federation prime', { sealed: false, sync: false });
            break;
          } catch (error) {
            if (attempt >= ATTEMPTS)
              throw new Error(`${from.serverName} → ${to.serverName}: the priming send failed: ${(error as Error).message}`);
            await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
          }
        }
      }
    } finally {
      await client.close();
    }
  }
  log(`federation primed between ${targets.map((t) => t.serverName).join(', ')}`);
}
