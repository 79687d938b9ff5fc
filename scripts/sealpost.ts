#!/usr/bin/env node
import { runCli } from './sealpost/run-cli';

/** `sealpost <command>`: the Sealpost command-line client (docs/CLIENT.md). */
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
