/**
 * Entry of a load-test worker process (forked by the coordinator from dist/, IPC with the
 * structured-clone serialization). It ignores SIGINT — a Ctrl-C in the terminal reaches the whole
 * process group, and the coordinator decides how the run ends — and exits when the coordinator's
 * channel closes, so it can never outlive the run.
 */
import type { CoordinatorMessage, WorkerMessage } from './ipc-messages';
import { LoadWorker } from './load-worker';

const send = (message: WorkerMessage) => process.send?.(message);
let worker: LoadWorker | undefined;

process.on('SIGINT', () => undefined);
process.on('disconnect', () => process.exit(0));

async function handle(message: CoordinatorMessage): Promise<void> {
  switch (message.type) {
    case 'init':
      worker = new LoadWorker(message);
      send({ type: 'ready' });
      return;
    case 'connect':
      send({ type: 'connected', figures: await worker!.connect() });
      return;
    case 'seal':
      send({ type: 'sealed', ...(await worker!.seal()) });
      return;
    case 'warm-up':
      send({ type: 'warmed', ...(await worker!.warmUp(message.sends)) });
      return;
    case 'warm-count':
      send({ type: 'warm-count', delivered: worker!.warmDelivered });
      return;
    case 'start':
      worker!.start(message.t0EpochMs, (second) => send({ type: 'second', second }));
      return;
    case 'stop-sending':
      worker!.stopSending();
      return;
    case 'finish': {
      send({ type: 'ledger', ...(await worker!.finish()) });
      return;
    }
  }
}

process.on('message', (message: CoordinatorMessage) => {
  handle(message).catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }));
});
