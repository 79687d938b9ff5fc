import type { StagePlan } from '../schedule/arrival-schedule';
import { MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES, MetricsEndpoint, SERVICE_KINDS, ServiceKind } from './load-options';

/** A command line that does not parse or makes no sense: printed with the usage, exit code 2. */
export class LoadUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadUsageError';
  }
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** "30s", "2m", "1h", "500ms", "1m30s" or a plain number of seconds. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new LoadUsageError(`${flag}: "${text}" is not a duration (e.g. 30s, 2m, 1m30s, 500ms)`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
}

export function parseNumber(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    const kind = integer ? 'an integer' : 'a number';
    throw new LoadUsageError(`${flag}: "${text}" is not ${kind} in ${min}..${max}`);
  }
  return value;
}

/** A share: 0..1, or a percentage ("25%"). */
export function parseShare(text: string, flag: string): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  return percent ? parseNumber(String(Number(percent[1]) / 100), flag, 0, 1, false) : parseNumber(text, flag, 0, 1, false);
}

/** `DURATION:RATE`, e.g. "2m:4000". */
export function parseStage(text: string): StagePlan {
  const at = text.lastIndexOf(':');
  if (at <= 0) throw new LoadUsageError(`--stage: "${text}" is not DURATION:RATE (e.g. 30s:1000)`);
  const durationSeconds = parseDuration(text.slice(0, at), '--stage');
  if (durationSeconds <= 0) throw new LoadUsageError(`--stage: "${text}" has no duration`);
  return { label: text, durationSeconds, rateTo: parseNumber(text.slice(at + 1), '--stage rate', 0, 1_000_000, false) };
}

/** "300" (every message that size) or "64-512" (uniform). */
export function parseSize(text: string): { min: number; max: number } {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) throw new LoadUsageError(`--size: "${text}" is not BYTES or MIN-MAX (e.g. 300, 64-512)`);
  const min = parseNumber(match[1], '--size', MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
  const max = match[2] === undefined ? min : parseNumber(match[2], '--size', MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
  if (max < min) throw new LoadUsageError(`--size: "${text}": the maximum is below the minimum`);
  return { min, max };
}

/** `SERVICE=URL` or `SERVICE@SERVER=URL`, e.g. "relay@alpha.example=http://10.0.0.5:8081/metrics". */
export function parseMetrics(text: string): MetricsEndpoint {
  const match = /^([a-z]+)(?:@([^=\s]+))?=(https?:\/\/\S+)$/i.exec(text.trim());
  if (!match || !SERVICE_KINDS.includes(match[1] as ServiceKind)) {
    throw new LoadUsageError(`--metrics: "${text}" is not SERVICE[@SERVER]=URL with SERVICE one of ${SERVICE_KINDS.join(', ')}`);
  }
  return { service: match[1] as ServiceKind, ...(match[2] ? { server: match[2] } : {}), url: match[3] };
}

export function parseUrl(text: string, flag: string): string {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new LoadUsageError(`${flag}: "${text}" is not an http(s) URL`);
  }
  return text.replace(/\/+$/, '');
}
