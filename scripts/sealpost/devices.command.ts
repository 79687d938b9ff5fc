import type { Command } from './command';
import { withDevice } from './device-session';

export const devicesCommand: Command = {
  name: 'devices',
  summary: "list this account's devices",
  positionals: [],
  options: { json: { type: 'boolean' } },
  optionHelp: ['--json               one JSON object per device'],
  async run({ values, global }) {
    await withDevice(global, async (client) => {
      for (const device of await client.devices()) {
        const self = device.deviceId === client.account.deviceId;
        if (values.json) process.stdout.write(`${JSON.stringify({ ...device, self })}\n`);
        else process.stdout.write(`device ${device.deviceId}${self ? ' (this device)' : ''}\n`);
      }
    });
    return 0;
  },
};
