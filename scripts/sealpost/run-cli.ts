import { parseArgs } from 'node:util';
import { KtVerificationError, SealpostApiError } from '@sealpost/client';
import { runLoadtestCli } from '@sealpost/loadtest';
import { Command, UsageError } from './command';
import { COMMANDS } from './commands';
import { GLOBAL_OPTIONS, GLOBAL_VALUE_OPTIONS, globalOptionsOf } from './global-options';
import { helpText, usageLine } from './help';

export const EXIT_USAGE = 2;

/** Runs one `sealpost` command line; resolves with the process's exit code. Nothing thrown escapes as a stack trace. */
export async function runCli(argv: string[]): Promise<number> {
  let command: Command | undefined;
  try {
    const at = commandIndex(argv);
    // The load tester parses its own flags (its --server is repeatable and names targets, not one device's server).
    if (at >= 0 && argv[at] === 'loadtest') return await runLoadtestCli([...argv.slice(0, at), ...argv.slice(at + 1)]);
    if (at < 0) {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(helpText());
        return 0;
      }
      throw new UsageError(argv.length === 0 ? 'no command given' : 'no command given (see --help)');
    }
    command = COMMANDS.find((c) => c.name === argv[at]);
    if (!command) throw new UsageError(`unknown command "${argv[at]}"`);
    const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
    const parsed = parseOrUsage(command, rest);
    if (parsed.values.help) {
      process.stdout.write(helpText(command));
      return 0;
    }
    const missing = command.positionals.slice(parsed.positionals.length);
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `<${m}>`).join(' ')}`, command);
    if (parsed.positionals.length > command.positionals.length)
      throw new UsageError(`unexpected argument "${parsed.positionals[command.positionals.length]}"`, command);
    return await command.run({ args: parsed.positionals, values: parsed.values, global: globalOptionsOf(parsed.values) });
  } catch (error) {
    return report(error, command);
  }
}

/** The index of the command name: the first argument that is neither an option nor a global option's value. */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    if (GLOBAL_VALUE_OPTIONS.has(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return i;
  }
  return -1;
}

function parseOrUsage(command: Command, args: string[]) {
  try {
    const parsed = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...command.options }, strict: true, allowPositionals: true });
    // No option is `multiple`, so no value is an array.
    return { positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | undefined> };
  } catch (error) {
    // node:util's messages name the flag; the hint about `--` does not apply to these commands.
    throw new UsageError((error as Error).message.replace(/\s*To specify a positional argument.*$/s, ''), command);
  }
}

function report(error: unknown, command: Command | undefined): number {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n${usageLine(error.command ?? command)}\n`);
    return EXIT_USAGE;
  }
  process.stderr.write(`error: ${describe(error)}\n`);
  return 1;
}

/** `<code>: <message>` for an error; only messages (never stacks, tokens or keys: the SDK's errors quote none). */
function describe(error: unknown): string {
  if (error instanceof SealpostApiError) {
    const message = typeof error.body.message === 'string' ? error.body.message : error.message;
    return `${error.code}: ${message}`;
  }
  if (error instanceof KtVerificationError) return `key_transparency: ${error.message}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^[a-z_]+$/.test(code)) return `${code}: ${error.message}`;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (error instanceof TypeError && error.message === 'fetch failed')
      return `unreachable: could not reach the homeserver${typeof cause?.code === 'string' ? ` (${cause.code})` : ''}`;
    return `client_error: ${error.message}`;
  }
  return 'client_error: unknown failure';
}
