import type { Command } from './command';
import { withDevice } from './device-session';

export const verifyCommand: Command = {
  name: 'verify',
  summary: "show the safety number with <address> and check its keys against its server's key-transparency log",
  positionals: ['address'],
  options: { json: { type: 'boolean' } },
  optionHelp: ['--json               print the result as one JSON object'],
  async run({ args: [address], values, global }) {
    const result = await withDevice(global, (client) => client.verify(address));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ address, safetyNumber: result.safetyNumber, kt: result.kt, devices: result.devices })}\n`);
    } else {
      const groups = result.safetyNumber.match(/.{1,5}/g) ?? [];
      process.stdout.write(
        [
          `safety number with ${address}:`,
          `  ${groups.slice(0, 6).join(' ')}`,
          `  ${groups.slice(6).join(' ')}`,
          `key transparency: ${result.kt} (identity key and devices [${result.devices.join(', ')}] included at a verified head)`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  },
};
