/**
 * `bench:abuse --rounds N`: every attack runs N times (interleaved with the others), each round
 * with its own quiet window just before it. One 20 s window's p99 is about its 10th-worst sample,
 * and on a 2-core machine such a figure swings by 2× from run to run; the median of N rounds'
 * during/before ratios is the judged figure, and every round is printed beside it.
 */
export interface RoundFigures {
  key: string;
  beforeP99Ms: number;
  duringP99Ms: number;
  /** The round's own verdict's reasons (loss, errors, saturated baseline, p99, attack-specific). */
  reasons: string[];
}

export interface RoundsVerdict {
  key: string;
  ratios: number[];
  medianRatio: number;
  pass: boolean;
  reasons: string[];
}

const isLatencyReason = (reason: string): boolean => reason.startsWith('p99 ');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Per attack: holds when the median during/before p99 ratio is at most 2 and no round failed for
 * any reason other than its own p99 (a loss, legitimate errors, a saturated baseline or an
 * attack-specific rule in any round fails the attack).
 */
export function judgeRounds(rounds: RoundFigures[]): RoundsVerdict[] {
  const keys = [...new Set(rounds.map((r) => r.key))];
  return keys.map((key) => {
    const mine = rounds.filter((r) => r.key === key);
    const ratios = mine.map((r) => (r.beforeP99Ms > 0 ? r.duringP99Ms / r.beforeP99Ms : Infinity));
    const medianRatio = median(ratios);
    const reasons = [...new Set(mine.flatMap((r) => r.reasons.filter((reason) => !isLatencyReason(reason))))];
    if (medianRatio > 2) reasons.push(`median p99 ratio ${medianRatio.toFixed(2)} > 2 over ${mine.length} rounds`);
    return { key, ratios, medianRatio, pass: reasons.length === 0, reasons };
  });
}
