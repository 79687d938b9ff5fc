import type { Command } from './command';
import { COMMANDS } from './commands';
import { GLOBAL_HELP } from './global-options';

export function usageLine(command?: Command): string {
  if (!command) return 'usage: sealpost [--state DIR] [--server URL|NAME] [--servers N=URL,...] <command> [options]';
  const positionals = command.positionals.map((p) => `<${p}>`).join(' ');
  const flags = Object.entries(command.options)
    .map(([name, spec]) => (spec.type === 'boolean' ? `[--${name}]` : `[--${name} ${placeholder(command, name)}]`))
    .join(' ');
  return ['usage: sealpost', command.name, positionals, flags, '[global options]'].filter((s) => s.length > 0).join(' ');
}

export function helpText(command?: Command): string {
  if (command) {
    return [usageLine(command), '', command.summary, '', ...indent(command.optionHelp), ...indent(GLOBAL_HELP), ''].join('\n');
  }
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    usageLine(),
    '',
    'A Sealpost client: one device per state directory.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'loadtest'.padEnd(width)}  load-test homeservers with real sealed envelopes (sealpost loadtest --help)`,
    '',
    'global options:',
    ...indent(GLOBAL_HELP),
    '',
    "`sealpost <command> --help` shows a command's options.",
    '',
  ].join('\n');
}

/** The value's name as the option's help line writes it (`--count N ...` → `N`). */
function placeholder(command: Command, name: string): string {
  const line = command.optionHelp.find((l) => l.startsWith(`--${name} `));
  return line?.split(/\s+/)[1] ?? 'VALUE';
}

const indent = (lines: string[]) => lines.map((l) => `  ${l}`);
