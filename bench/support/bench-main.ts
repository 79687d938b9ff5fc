/**
 * The common tail of every bench script: SIGINT / SIGTERM stop the spawned services (exit 130 /
 * 143), a failure is printed to stderr and stops them too (exit 1).
 */
export function runBench(main: () => Promise<void>, stop: () => Promise<void>, what: string, { stopAfter = true } = {}): void {
  process.once('SIGINT', () => {
    process.stderr.write(`interrupted; stopping ${what}\n`);
    void stop().then(() => process.exit(130));
  });
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  (stopAfter ? main().then(stop) : main()).catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    await stop();
    process.exit(1);
  });
}
