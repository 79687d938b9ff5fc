import { SMALL_BODY_MAX_BYTES } from '@sealpost/config';
import { BodyBytesBudget } from './body-bytes-budget';

describe('BodyBytesBudget', () => {
  const KiB = 1024;

  it('large bodies fill only their share; small bodies still fit in the rest of the budget', () => {
    const budget = new BodyBytesBudget(4096 * KiB, 3072 * KiB);
    for (let i = 0; i < 3; i++) expect(budget.tryTake(1024 * KiB, 1024 * KiB)).toBe(true);
    expect(budget.tryTake(100 * KiB, 100 * KiB)).toBe(false);
    expect(budget.inFlight).toBe(3072 * KiB);
    for (let i = 0; i < 16; i++) expect(budget.tryTake(SMALL_BODY_MAX_BYTES, SMALL_BODY_MAX_BYTES)).toBe(true);
    expect(budget.inFlight).toBe(4096 * KiB);
    expect(budget.tryTake(1, 1)).toBe(false);
  });

  it('a body taken chunk by chunk counts as small until its total passes SMALL_BODY_MAX_BYTES', () => {
    const budget = new BodyBytesBudget(1024 * KiB, 512 * KiB);
    expect(budget.tryTake(512 * KiB, 512 * KiB)).toBe(true);
    expect(budget.tryTake(32 * KiB, 32 * KiB)).toBe(true);
    expect(budget.tryTake(32 * KiB, 64 * KiB)).toBe(true);
    expect(budget.tryTake(1, 64 * KiB + 1)).toBe(false);
  });

  it('what is given back can be taken again, and the count never goes below zero', () => {
    const budget = new BodyBytesBudget(1024 * KiB, 768 * KiB);
    expect(budget.tryTake(768 * KiB, 768 * KiB)).toBe(true);
    expect(budget.tryTake(100 * KiB, 100 * KiB)).toBe(false);
    budget.give(768 * KiB);
    budget.give(1);
    expect(budget.inFlight).toBe(0);
    expect(budget.tryTake(768 * KiB, 768 * KiB)).toBe(true);
  });
});
