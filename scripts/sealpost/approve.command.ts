import type { Command } from './command';
import { withDevice } from './device-session';

export const approveCommand: Command = {
  name: 'approve',
  summary: 'approve a new device showing <code> (from `sealpost link`): seals this account to it',
  positionals: ['code'],
  options: {},
  optionHelp: [],
  async run({ args: [code], global }) {
    await withDevice(global, (client) => client.approveLink(code));
    process.stdout.write('approved: the new device is linking\n');
    return 0;
  },
};
