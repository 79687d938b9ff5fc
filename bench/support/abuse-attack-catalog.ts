/**
 * The abuse bench's seven attacks by key, in the order `--attacks 1,2,...` numbers them, with the
 * options each runs with: its caps and the bound on its intensity (how many at a time, or how
 * many a second). The bench's process sends a key and its options to an attack process
 * (abuse-attack-runner.ts), which builds the attack here.
 */
import { Attack, AttackTargets } from './abuse-attack';
import { ackFlood, strangerFlood } from './abuse-account-attacks';
import { heldBodies, hugeUnsignedBodies, malformedJunk, newOriginLookups, remoteSealedSends } from './abuse-http-attacks';

export const ATTACK_OPTIONS = {
  'huge-bodies': { mib: 40, concurrent: 3, cap: 12 },
  'remote-sealed': { destinations: 100, messages: 8, contentKiB: 128, concurrent: 4, cap: 200 },
  'ack-flood': { sockets: 2, framesPerSocket: 2000, maxBufferedBytes: 4 * 1024 * 1024 },
  'held-bodies': { connections: 200, declaredBytes: 4_000_000, sentBytes: 3_900_000, cap: 2000, opensPerSecond: 20 },
  'stranger-flood': { strangerRate: 100, maxOutstanding: 64, legitRate: 2 },
  'new-origins': { origins: 100, concurrent: 50, cap: 5000 },
  junk: { concurrent: 16, cap: 20_000 },
};

export type AttackKey = keyof typeof ATTACK_OPTIONS;
export type AttackOptions<K extends AttackKey = AttackKey> = (typeof ATTACK_OPTIONS)[K];

export const ATTACK_KEYS = Object.keys(ATTACK_OPTIONS) as AttackKey[];

export function isAttackKey(key: string): key is AttackKey {
  return Object.prototype.hasOwnProperty.call(ATTACK_OPTIONS, key);
}

const BUILDERS: { [K in AttackKey]: (targets: AttackTargets, options: AttackOptions<K>, runTag: string) => Attack } = {
  'huge-bodies': (targets, options) => hugeUnsignedBodies(targets, options),
  'remote-sealed': (targets, options) => remoteSealedSends(targets, options),
  'ack-flood': (targets, options, runTag) => ackFlood(targets, { ...options, runTag }),
  'held-bodies': (targets, options) => heldBodies(targets, options),
  'stranger-flood': (targets, options, runTag) => strangerFlood(targets, { ...options, runTag }),
  'new-origins': (targets, options) => newOriginLookups(targets, options),
  junk: (targets, options) => malformedJunk(targets, options),
};

/** Builds attack `key` with `options` (its defaults are ATTACK_OPTIONS[key]); `runTag` keeps its account names unique. */
export function buildAttack<K extends AttackKey>(key: K, targets: AttackTargets, options: AttackOptions<K>, runTag: string): Attack {
  return BUILDERS[key](targets, options, runTag);
}
