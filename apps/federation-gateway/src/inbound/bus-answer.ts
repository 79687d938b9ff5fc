import { Observable, firstValueFrom, timeout } from 'rxjs';
import { BusError, isBusError } from '@sealpost/contracts';
import { ApiError } from '@sealpost/http';

const BUS_TIMEOUT_MS = 15_000;

/** Awaits a bus reply; a BusError value becomes the matching ApiError, silence a 503. */
export async function busAnswer<T>(reply: Observable<T | BusError>, service: string): Promise<T> {
  let value: T | BusError;
  try {
    value = await firstValueFrom(reply.pipe(timeout(BUS_TIMEOUT_MS)));
  } catch {
    throw new ApiError(503, `${service}_unavailable`, `the ${service} did not answer; retry later`, {}, { 'retry-after': '1' });
  }
  if (isBusError(value)) throw new ApiError(value.status, value.error, value.message);
  return value;
}
