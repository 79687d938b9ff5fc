/**
 * Preloaded (`node -r`) into a service that is being CPU-profiled: exits at once on SIGTERM with
 * code 0, so that `--cpu-prof` writes its profile (a process killed by the signal writes none).
 */
process.once('SIGTERM', () => process.exit(0));
