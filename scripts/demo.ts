import { DemoHomeservers } from './demo/demo-homeservers';
import { runConversation } from './demo/demo-conversation';

/**
 * `npm run demo`: two homeservers (alpha, beta) on loopback, alice@alpha and bob@beta (with a
 * linked second device) talking both ways. Everything it starts is stopped at the end, also on
 * Ctrl-C. Uses the Postgres and Redis that `npm start` uses, in databases and a prefix of its own.
 */
async function main(): Promise<number> {
  const started = Date.now();
  const say = (line: string) =>
    process.stdout.write(line === '' ? '\n' : `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  const homeservers = new DemoHomeservers();
  const interrupt = () => {
    process.stdout.write('\ninterrupted: stopping the demo homeservers…\n');
    void homeservers.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let code = 0;
  try {
    say('starting homeservers alpha and beta (3 services each) on loopback…');
    const [alpha, beta] = await homeservers.start(['alpha', 'beta']);
    for (const hs of [alpha, beta])
      say(`${hs.server}: discovery ${hs.gatewayUrl}/.well-known/sealpost, directory ${hs.directoryUrl}, relay ${hs.relayUrl}`);
    await runConversation({ alpha: alpha.gatewayUrl, beta: beta.gatewayUrl }, 'alpha', 'beta', say);
    say('');
    say("conversation done: both ways, both of bob's devices received");
  } catch (error) {
    process.stderr.write(`demo failed: ${(error as Error).message}\n`);
    code = 1;
  } finally {
    say('stopping everything the demo started…');
    await homeservers.stop();
  }
  process.stdout.write(`elapsed: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return code;
}

void main().then((code) => process.exit(code));
