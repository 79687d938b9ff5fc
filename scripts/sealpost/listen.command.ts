import type { ReceivedMessage, SealpostClient } from '@sealpost/client';
import type { Command } from './command';
import { UsageError } from './command';
import { withDevice } from './device-session';

export const listenCommand: Command = {
  name: 'listen',
  summary: 'print messages as they arrive (each acked once printed)',
  positionals: [],
  options: { json: { type: 'boolean' }, count: { type: 'string' }, timeout: { type: 'string' } },
  optionHelp: [
    '--json               one JSON object per message: from, fromDevice, text, sentAt, sealed, messageId',
    '--count N            exit (0) after N messages',
    '--timeout S          exit after S seconds (code 1 if --count was given and not reached)',
  ],
  async run({ values, global }) {
    const count = positiveNumber(values.count as string | undefined, '--count', true);
    const timeout = positiveNumber(values.timeout as string | undefined, '--timeout', false);
    const received = await withDevice(global, (client) => listen(client, values.json === true, count, timeout));
    if (count !== undefined && received < count) {
      process.stderr.write(`error: timeout: ${received} of ${count} messages in ${timeout} s\n`);
      return 1;
    }
    return 0;
  },
};

/** Resolves with the number of messages printed, once `count` were or `timeoutSeconds` passed or Ctrl-C. */
async function listen(client: SealpostClient, json: boolean, count?: number, timeoutSeconds?: number): Promise<number> {
  let printed = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const print = (message: ReceivedMessage) => {
    // Past the count, refuse: the envelope stays on the server for the next listen.
    if (count !== undefined && printed >= count) throw new Error('count reached');
    process.stdout.write(json ? `${JSON.stringify(jsonOf(message))}\n` : `${textOf(message)}\n`);
    printed++;
  };
  client.on('message', () => {
    if (count !== undefined && printed >= count) finish();
  });
  client.on('undecryptable', (e) => process.stderr.write(`undecryptable envelope ${e.envelopeId}: ${e.reason}\n`));
  client.on('identity-changed', (e) =>
    process.stderr.write(`identity key of ${e.address} changed: run \`sealpost verify ${e.address}\`\n`),
  );
  client.on('kt-alert', (alert) => process.stderr.write(`key-transparency alert: ${alert.kind}\n`));
  client.on('disconnected', ({ final }) => {
    if (final) finish();
  });
  const timer = timeoutSeconds !== undefined ? setTimeout(finish, timeoutSeconds * 1000) : undefined;
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await client.connect(print);
    await done;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return printed;
}

function jsonOf(m: ReceivedMessage) {
  return {
    from: m.from,
    fromDevice: m.fromDevice,
    text: m.text,
    sentAt: m.sentAt,
    sealed: m.sealed,
    messageId: m.messageId,
    ...(m.syncTo !== undefined ? { syncTo: m.syncTo } : {}),
  };
}

function textOf(m: ReceivedMessage): string {
  const when = new Date(m.sentAt).toISOString();
  const who = m.syncTo !== undefined ? `you (device ${m.fromDevice}) → ${m.syncTo}` : `${m.from} (device ${m.fromDevice})`;
  return `[${when}] ${who}${m.sealed ? ' [sealed]' : ''}: ${m.text}`;
}

function positiveNumber(text: string | undefined, flag: string, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag}: "${text}" is not a positive ${integer ? 'integer' : 'number'}`, listenCommand);
  }
  return value;
}
