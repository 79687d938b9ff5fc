#!/usr/bin/env node
import { runLoadtestCli } from '@sealpost/loadtest';

/** `npm run loadtest -- …`: the load tester (docs/LOADTEST.md); the same as `sealpost loadtest …`. */
runLoadtestCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
