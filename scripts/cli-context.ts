import { DirectoryConfig, loadDirectoryConfig, readEnvFile } from '@sealpost/config';
import { dependencyProblems } from '@sealpost/http';

/** Exit code of a command line whose Postgres or Redis cannot be reached. */
export const EXIT_UNAVAILABLE = 69;

/**
 * Common start of the operator commands: `--env FILE` read and removed from the arguments,
 * config validated, Postgres and Redis checked. Null (after saying why) when a store is down.
 */
export async function cliContext(
  argv: string[],
): Promise<{ config: DirectoryConfig; args: string[]; env: Record<string, string | undefined> } | null> {
  const args = [...argv];
  const envIndex = args.indexOf('--env');
  const fileEnv = envIndex >= 0 ? readEnvFile(args[envIndex + 1] ?? '') : {};
  if (envIndex >= 0) args.splice(envIndex, 2);
  const env = { ...process.env, ...fileEnv };
  const config = loadDirectoryConfig(env);
  const problems = await dependencyProblems(config);
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return null;
  }
  return { config, args, env };
}
