import type { Command } from './command';
import { withDevice } from './device-session';

export const keysCommand: Command = {
  name: 'keys',
  summary: "show this device's one-time prekey counts on the server; --replenish uploads a fresh batch",
  positionals: [],
  options: { replenish: { type: 'boolean' } },
  optionHelp: ['--replenish          upload a fresh batch of one-time EC and Kyber prekeys'],
  async run({ values, global }) {
    const counts = await withDevice(global, (client) => (values.replenish ? client.replenishPreKeys(true) : client.keyCounts()));
    process.stdout.write(`one-time prekeys on the server: ${counts.count} EC, ${counts.pqCount} Kyber\n`);
    return 0;
  },
};
