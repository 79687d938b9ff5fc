import { SealpostClient } from '@sealpost/client';
import type { Command } from './command';
import { requireServer, withStore } from './device-session';

export const linkCommand: Command = {
  name: 'link',
  summary: 'make this (empty) state directory a new device of an existing account: prints a link code, waits for `approve`',
  positionals: [],
  options: {},
  optionHelp: [],
  async run({ global }) {
    const server = requireServer(global, 'link');
    const linked = await withStore(global, async (store) => {
      const client = await SealpostClient.link({
        store,
        servers: global.servers,
        server,
        onLinkCode: (code) => {
          process.stdout.write(`link code (run \`sealpost approve <code>\` on a device of the account):\n${code}\n`);
        },
      });
      return `${client.account.address} (device ${client.account.deviceId})`;
    });
    process.stdout.write(`linked as ${linked}; state in ${global.state}\n`);
    return 0;
  },
};
