import type { Command } from './command';
import { withDevice } from './device-session';

export const sendCommand: Command = {
  name: 'send',
  summary: 'send <text> to every device of <address> (sealed sender when possible)',
  positionals: ['address', 'text'],
  options: { json: { type: 'boolean' } },
  optionHelp: ['--json               print the send report as one JSON object'],
  async run({ args: [address, text], values, global }) {
    const report = await withDevice(global, (client) => client.send(address, text));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ to: address, ...report })}\n`);
    } else {
      const sizes = report.envelopeBytes.join(', ');
      process.stdout.write(
        `sent ${report.messageId} to ${address} devices [${report.devices.join(', ')}], ${report.sealed ? 'sealed sender' : 'identified'}, envelope bytes [${sizes}]` +
          (report.syncedDevices.length > 0 ? `, synced to own devices [${report.syncedDevices.join(', ')}]` : '') +
          '\n',
      );
    }
    return 0;
  },
};
