import type { Command } from './command';
import { UsageError } from './command';
import { withDevice } from './device-session';

export const removeDeviceCommand: Command = {
  name: 'remove-device',
  summary: 'remove device <id> from this account (it stops receiving)',
  positionals: ['id'],
  options: {},
  optionHelp: [],
  async run({ args: [id], global }) {
    if (!/^[1-9][0-9]{0,2}$/.test(id)) throw new UsageError(`remove-device: "${id}" is not a device id`, removeDeviceCommand);
    await withDevice(global, (client) => client.removeDevice(Number(id)));
    process.stdout.write(`removed device ${id}\n`);
    return 0;
  },
};
