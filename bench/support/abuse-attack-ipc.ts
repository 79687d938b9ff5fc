/**
 * The messages between the abuse bench's process and an attack process (abuse-attack-runner.ts),
 * in the order they are sent: prepare → prepared, baseline (in the quiet window), run → result,
 * abort at the end of the window. The attack process asks for the never-answering server's
 * accepted connections whenever the attack reads them (ask-accepted → accepted).
 */
import type { AttackHomeserver, AttackSummary } from './abuse-attack';
import type { AttackKey, AttackOptions } from './abuse-attack-catalog';

/** The attack's targets as plain data (the live counter is asked for over IPC). */
export interface WireTargets {
  alpha: AttackHomeserver;
  beta: AttackHomeserver;
  voidServers: string[];
}

export type ToAttackProcess =
  | { type: 'prepare'; key: AttackKey; options: AttackOptions; targets: WireTargets; runTag: string }
  | { type: 'baseline' }
  /** Start the attack (ending the baseline first); it aborts itself after `windowMs` and exits at the latest `graceMs` later. */
  | { type: 'run'; windowMs: number; graceMs: number }
  | { type: 'abort' }
  | { type: 'accepted'; id: number; value: number };

/** What an attack process did in its window, measured in that process. */
export interface AttackOutcome {
  baseline?: Record<string, unknown>;
  summary?: AttackSummary;
  failure?: string;
  /** From the start of the run until its window ended (or the attack ended, if it ended first), s. */
  activeSeconds: number;
  /** `summary.sent` / `activeSeconds`. */
  sentPerSecond: number;
  /** The attack process's own event-loop delay during the run (did the attacker keep up?). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** CPU time the attack process used during the run, and from the end of prepare to its result. */
  runCpuSeconds: number;
  cpuSeconds: number;
}

export type FromAttackProcess =
  | { type: 'prepared'; title: string; offered: string; unit: string; hasBaseline: boolean }
  | { type: 'failed'; message: string }
  | { type: 'ask-accepted'; id: number }
  | { type: 'result'; outcome: AttackOutcome };
