import { homedir } from 'node:os';
import { join } from 'node:path';
import type { OptionSpec } from './command';
import { UsageError } from './command';

/** Options every command takes. */
export interface GlobalOptions {
  /** Directory of this device's state (identity key, sessions, token): `--state`, `$SEALPOST_STATE`, `~/.sealpost`. */
  state: string;
  /** Homeserver for `register` and `link`: a base URL or a server name. */
  server?: string;
  /** Server name → base URL, for loopback setups (the SDK's `servers` option). */
  servers: Record<string, string>;
}

export const GLOBAL_OPTIONS: OptionSpec = {
  state: { type: 'string' },
  server: { type: 'string' },
  servers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Global options that take a value (so the value is not taken for the command name). */
export const GLOBAL_VALUE_OPTIONS = new Set(['--state', '--server', '--servers']);

export const GLOBAL_HELP = [
  '--state DIR          device state directory (default $SEALPOST_STATE or ~/.sealpost)',
  '--server URL|NAME    homeserver for register and link (base URL or server name)',
  '--servers N=URL,...  map server names to base URLs (loopback setups)',
  '--help, -h           this help',
];

export function globalOptionsOf(values: Record<string, string | boolean | undefined>): GlobalOptions {
  const state = (values.state as string | undefined) ?? (process.env.SEALPOST_STATE || undefined) ?? join(homedir(), '.sealpost');
  return { state, server: values.server as string | undefined, servers: parseServers(values.servers as string | undefined) };
}

function parseServers(text: string | undefined): Record<string, string> {
  const servers: Record<string, string> = {};
  if (text === undefined) return servers;
  for (const entry of text.split(',').filter((e) => e.length > 0)) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    const url = entry.slice(eq + 1);
    if (eq <= 0 || !/^https?:\/\/[^\s,]+$/i.test(url)) throw new UsageError(`--servers: "${entry}" is not name=http(s)://host:port`);
    servers[name] = url.replace(/\/+$/, '');
  }
  return servers;
}
