import { SealpostClient } from '@sealpost/client';
import type { Command } from './command';
import { requireServer, withStore } from './device-session';

export const registerCommand: Command = {
  name: 'register',
  summary: 'create an account localpart@server; this state directory becomes its primary device',
  positionals: ['localpart'],
  options: { token: { type: 'string' } },
  optionHelp: ['--token T            registration token (when the server does not have open registration)'],
  async run({ args: [localpart], values, global }) {
    const server = requireServer(global, 'register');
    const address = await withStore(global, async (store) => {
      const client = await SealpostClient.register({
        store,
        servers: global.servers,
        server,
        localpart,
        registrationToken: values.token as string | undefined,
      });
      return `${client.account.address} (device ${client.account.deviceId})`;
    });
    process.stdout.write(`registered ${address}; state in ${global.state}\n`);
    return 0;
  },
};
