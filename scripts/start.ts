import { ChildProcess } from 'node:child_process';
import { ConfigError, loadDirectoryConfig, loadGatewayConfig, loadRelayConfig, readEnvFile } from '@sealpost/config';
import { dependencyProblems } from '@sealpost/http';
import { ServiceSpec, spawnService, waitUntilHealthy } from './service-processes';

/**
 * `npm start [-- --env FILE]`: one homeserver on this machine — the prekey directory, the relay
 * and the federation gateway as three processes. Ctrl-C stops all three.
 */
async function main(): Promise<void> {
  const envFileIndex = process.argv.indexOf('--env');
  const fileEnv = envFileIndex > 0 ? readEnvFile(process.argv[envFileIndex + 1] ?? '') : {};
  const env: NodeJS.ProcessEnv = { ...process.env, ...fileEnv };

  let configs;
  try {
    configs = { directory: loadDirectoryConfig(env), relay: loadRelayConfig(env), gateway: loadGatewayConfig(env) };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sealpost: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const { directory, relay, gateway } = configs;

  const problems = await dependencyProblems(directory);
  if (problems.length > 0) {
    process.stderr.write(`sealpost cannot start:\n${problems.map((l) => `  ${l}`).join('\n')}\n`);
    process.exit(69);
  }
  // Each service creates the database if needed and applies its own migrations as it starts.

  const local = (port: number) => `http://127.0.0.1:${port}`;
  const specs: ServiceSpec[] = [
    { name: 'prekey-directory', entry: 'apps/prekey-directory/src/main.js', healthUrl: `${local(directory.port)}/healthz` },
    { name: 'relay', entry: 'apps/relay/src/main.js', healthUrl: `${local(relay.port)}/healthz` },
    { name: 'federation-gateway', entry: 'apps/federation-gateway/src/main.js', healthUrl: `${local(gateway.port)}/healthz` },
  ];
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children.values()) if (child.exitCode === null) child.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const c of children.values()) c.kill('SIGKILL');
    }, 10_000);
    force.unref();
    void Promise.all([...children.values()].map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() =>
      process.exit(code),
    );
  };
  process.on('SIGINT', () => {
    process.stdout.write('\nstopping Sealpost…\n');
    stopAll(0);
  });
  process.on('SIGTERM', () => stopAll(0));

  specs.forEach((spec, i) => {
    const child = spawnService(spec, env, i);
    children.set(spec.name, child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`sealpost: ${spec.name} exited (${signal ?? `code ${code}`}); stopping the others\n`);
      stopAll(1);
    });
  });
  try {
    await Promise.all(specs.map((s) => waitUntilHealthy(s.healthUrl, 60_000, () => children.get(s.name)?.exitCode === null)));
  } catch (error) {
    if (!stopping) {
      process.stderr.write(`sealpost: a service did not become ready: ${(error as Error).message}\n`);
      stopAll(1);
    }
    return;
  }
  process.stdout.write(
    [
      '',
      `Sealpost homeserver "${directory.serverName}" is running:`,
      `  prekey directory    ${local(directory.port)}   (/v1/accounts, /v1/devices, /v1/keys)`,
      `  relay              ${local(relay.port)}   (/v1/messages, /v1/websocket, /v1/provisioning)`,
      `  federation gateway ${local(gateway.port)}   (/federation/v1/*)`,
      `  discovery          ${gateway.publicUrl}/.well-known/sealpost`,
      `  registration       ${directory.openRegistration ? 'open' : `by token${directory.staticRegistrationToken ? ' (REGISTRATION_TOKEN is set)' : ''}: npm run admin -- registration-token create --uses 10`}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  process.stderr.write(`sealpost: ${(error as Error).message}\n`);
  process.exit(1);
});
