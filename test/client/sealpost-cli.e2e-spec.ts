import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { assertBuilt } from '../support/service-process';

const ALPHA = 'clialpha.test';
const BETA = 'clibeta.test';
const BIN = join(__dirname, '..', '..', 'dist', 'scripts', 'sealpost.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `sealpost` binary as a child process (asynchronously: the homeservers live in this process). */
function sealpost(args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SEALPOST_STATE: undefined },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sealpost ${args[0]} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the sealpost command line across two federated homeservers', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let servers: string;
  const dirs: string[] = [];
  const stateDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-'));
    dirs.push(dir);
    return dir;
  };
  const alice = `alice${process.pid % 10000}`;
  const bob = `bob${process.pid % 10000}`;

  beforeAll(async () => {
    assertBuilt('scripts/sealpost.js');
    await freshFederationServers([ALPHA, BETA]);
    [alpha, beta] = await startFederation([ALPHA, BETA], {
      [ALPHA]: { KT_EPOCH_SECONDS: '1', OPEN_REGISTRATION: 'true' },
      [BETA]: { KT_EPOCH_SECONDS: '1', OPEN_REGISTRATION: 'true' },
    });
    servers = `${ALPHA}=${alpha.gatewayUrl},${BETA}=${beta.gatewayUrl}`;
  }, 120_000);

  afterAll(async () => {
    await alpha?.close();
    await beta?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('register → send → listen --json, both ways: alice@alpha and bob@beta, each in its own state directory', async () => {
    const aliceState = stateDir();
    const bobState = stateDir();
    const as = (state: string, ...args: string[]) => sealpost(['--state', state, '--servers', servers, ...args]);

    const registered = await as(aliceState, 'register', alice, '--server', ALPHA);
    expect(registered).toMatchObject({ code: 0, stderr: '' });
    expect(registered.stdout).toContain(`registered ${alice}@${ALPHA}`);
    expect((await as(bobState, 'register', bob, '--server', BETA)).code).toBe(0);

    const sent = await as(aliceState, 'send', `${bob}@${BETA}`, 'hello bob', '--json');
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(sent.stdout)).toMatchObject({ devices: [1], sealed: false });

    const bobHeard = await as(bobState, 'listen', '--json', '--count', '1', '--timeout', '20');
    expect(bobHeard).toMatchObject({ code: 0, stderr: '' });
    const lines = bobHeard.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ from: `${alice}@${ALPHA}`, fromDevice: 1, text: 'hello bob', sealed: false });
    expect(Object.keys(JSON.parse(lines[0])).sort()).toEqual(['from', 'fromDevice', 'messageId', 'sealed', 'sentAt', 'text']);

    const replied = await as(bobState, 'send', `${alice}@${ALPHA}`, 'hello alice');
    expect(replied).toMatchObject({ code: 0, stderr: '' });
    expect(replied.stdout).toContain('sealed sender');

    const aliceHeard = await as(aliceState, 'listen', '--json', '--count', '1', '--timeout', '20');
    expect(aliceHeard).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(aliceHeard.stdout.trim())).toMatchObject({ from: `${bob}@${BETA}`, text: 'hello alice', sealed: true });

    const verified = await as(aliceState, 'verify', `${bob}@${BETA}`, '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ kt: 'verified', devices: [1], safetyNumber: expect.stringMatching(/^\d{60}$/) });
  }, 120_000);

  it('--help on the command line and on each command exits 0 with the usage', async () => {
    const top = await sealpost(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['register', 'link', 'approve', 'send', 'listen', 'devices', 'remove-device', 'verify', 'keys']) {
      expect(top.stdout).toContain(`  ${command} `);
      const help = await sealpost([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: sealpost ${command}`));
    }
  }, 60_000);

  it('an unknown flag or a missing argument is a usage error: exit 2, the usage line, no stack', async () => {
    const unknown = await sealpost(['send', '--loud', 'x@y.test', 'hi']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: Unknown option '--loud'");
    expect(unknown.stderr).toContain('usage: sealpost send <address> <text>');
    const missing = await sealpost(['send', 'x@y.test']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: missing <text>');
    for (const run of [unknown, missing]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad address is the SDK’s or the server’s error: exit 1, `error: <code>: <message>`, no stack, no token', async () => {
    const state = stateDir();
    expect(
      (await sealpost(['--state', state, '--servers', servers, 'register', `carol${process.pid % 10000}`, '--server', ALPHA])).code,
    ).toBe(0);

    const malformed = await sealpost(['--state', state, '--servers', servers, 'send', 'not-an-address', 'hi']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toBe('error: invalid_request: address: must be an address localpart@server (localpart [a-z0-9._-]{1,64})\n');

    const nobody = await sealpost(['--state', state, '--servers', servers, 'send', `nobody@${BETA}`, 'hi']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/^error: not_found: .+\n$/);

    const stored = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')) as { records: { account: Record<string, string> } };
    const account = JSON.parse(Object.values(stored.records.account)[0]) as { token: string; identityKeyPair: string };
    for (const run of [malformed, nobody]) {
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toContain(account.token);
      expect(run.stderr).not.toContain(account.identityKeyPair);
    }
  }, 60_000);
  it('link → approve → devices → keys → remove-device: a second device of bob through the sealed provisioning exchange', async () => {
    const bobState = stateDir();
    const laptopState = stateDir();
    const as = (state: string, ...args: string[]) => sealpost(['--state', state, '--servers', servers, ...args]);
    const name = `bobl${process.pid % 10000}`;
    expect((await as(bobState, 'register', name, '--server', BETA)).code).toBe(0);

    // the new device waits for approval: read its link code from its output while it runs
    const link = spawn(process.execPath, [BIN, '--state', laptopState, '--servers', servers, 'link', '--server', BETA], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let linkOut = '';
    link.stdout.on('data', (d: Buffer) => (linkOut += d.toString()));
    link.stderr.on('data', (d: Buffer) => (linkOut += d.toString()));
    const exited = new Promise<number | null>((resolve) => link.once('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!/sealpost-link:v1:\S+/.test(linkOut) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const code = /sealpost-link:v1:\S+/.exec(linkOut)?.[0];
    expect(code).toBeDefined();

    const approved = await as(bobState, 'approve', code!);
    expect(approved).toMatchObject({ code: 0, stderr: '' });
    expect(await exited).toBe(0);
    expect(linkOut).toContain(`linked as ${name}@${BETA} (device 2)`);

    const devices = await as(bobState, 'devices', '--json');
    expect(devices.code).toBe(0);
    expect(
      devices.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).deviceId),
    ).toEqual([1, 2]);
    const keys = await as(laptopState, 'keys');
    expect(keys).toMatchObject({ code: 0, stderr: '' });
    expect(keys.stdout).toMatch(/one-time prekeys on the server: \d+ EC, \d+ Kyber/);

    expect(await as(bobState, 'remove-device', '2')).toMatchObject({ code: 0, stdout: 'removed device 2\n' });
    expect(
      (await as(bobState, 'devices', '--json')).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).deviceId),
    ).toEqual([1]);
    const removed = await as(laptopState, 'keys');
    expect(removed.code).toBe(1);
    expect(removed.stderr).toMatch(/^error: unauthorized: /);
  }, 90_000);
});
