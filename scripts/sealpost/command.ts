import type { ParseArgsConfig } from 'node:util';
import type { GlobalOptions } from './global-options';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What a command is handed once its arguments parsed: strict, every positional present. */
export interface CommandInput {
  args: string[];
  values: Record<string, string | boolean | undefined>;
  global: GlobalOptions;
}

/** One `sealpost` sub-command: its arguments, its help, and what it does (resolving to an exit code). */
export interface Command {
  name: string;
  summary: string;
  /** Positionals after the command name, all required, in order. */
  positionals: string[];
  options: OptionSpec;
  /** One line per option of this command: `--flag X   what it does`. */
  optionHelp: string[];
  run(input: CommandInput): Promise<number>;
}

/** A command line that does not parse: printed with the usage line, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
