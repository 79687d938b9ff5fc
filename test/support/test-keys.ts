import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where test homeservers keep their signing keys during one test run (emptied by the global setup). */
export const TEST_KEYS_ROOT = join(tmpdir(), 'sealpost-test-keys');
