import { LatencyHistogram } from '../metrics/latency-histogram';
import { defaultLoadOptions } from '../options/load-options';
import { ArrivalSchedule } from '../schedule/arrival-schedule';
import type { WorkerLedger, WorkerStageFigures } from '../worker/ipc-messages';
import { buildReport, redactedCommand } from './report-builder';

const stages = [
  { label: '1s:10', durationSeconds: 1, rateTo: 10 },
  { label: '1s:0', durationSeconds: 1, rateTo: 0 },
];
const schedule = new ArrivalSchedule(stages, 10);

function histogram(...ms: number[]): string {
  const h = LatencyHistogram.empty();
  for (const v of ms) h.recordMs(v);
  return h.encode();
}

function figures(overrides: Partial<WorkerStageFigures>): WorkerStageFigures {
  return {
    sent: 0,
    accepted: 0,
    refusedByStatus: {},
    delayedByInFlightCap: 0,
    expectedDeliveries: 0,
    duplicated: 0,
    verified: 0,
    verifyFailures: 0,
    accept: '',
    deliver: '',
    ack: '',
    ...overrides,
  };
}

const ledger = (stageFigures: WorkerStageFigures[], foreign = 0): WorkerLedger => ({
  stages: stageFigures,
  statuses: new Uint16Array(0),
  recipientDevices: new Uint8Array(0),
  deliveredMasks: [],
  foreign,
});

function report(endedBy: 'completed' | 'duration-cap', lost: number) {
  return buildReport({
    command: ['--spawn', '2', '--registration-token', 'secret-token', '--registration-token=other-secret'],
    options: defaultLoadOptions({ stages, registrationTokens: ['secret-token'] }),
    startedAt: new Date(),
    endedBy,
    targets: [],
    connect: {
      attempted: 0,
      connected: 0,
      failed: 0,
      failuresByReason: {},
      durationMs: 0,
      ratePerSecond: 0,
      workers: 2,
      sourceAddresses: [],
    },
    schedule,
    ledgers: [
      ledger(
        [
          figures({ sent: 5, accepted: 5, expectedDeliveries: 5, deliver: histogram(1, 2, 3) }),
          figures({ sent: 3, accepted: 2, refusedByStatus: { '429': 1 }, expectedDeliveries: 2 }),
        ],
        1,
      ),
      ledger([
        figures({ sent: 5, accepted: 4, refusedByStatus: { '429': 1 }, expectedDeliveries: 8, duplicated: 1, deliver: histogram(10, 20) }),
        figures({ sent: 2, accepted: 2, expectedDeliveries: 2 }),
      ]),
    ],
    joined: [
      { delivered: 13 - lost, lost, deliveredUnaccepted: 0 },
      { delivered: 4, lost: 0, deliveredUnaccepted: 0 },
    ],
    verifyFailures: {},
    timeline: [],
    services: [],
  });
}

describe('buildReport: the LoadReport of a run', () => {
  it('sums the workers per stage, and the stages into the run totals', () => {
    const r = report('completed', 0);
    expect(r.stages.map((s) => s.totals.sent)).toEqual([10, 5]);
    expect(r.stages[0].totals).toMatchObject({
      accepted: 9,
      expectedDeliveries: 13,
      delivered: 13,
      duplicated: 1,
      refusedByStatus: { '429': 1 },
    });
    expect(r.totals).toMatchObject({
      sent: 15,
      accepted: 13,
      expectedDeliveries: 17,
      delivered: 17,
      lost: 0,
      duplicated: 1,
      refusedByStatus: { '429': 2 },
      foreign: 1,
    });
    expect(r.stages[0].latency.sendToDeliver.count).toBe(5);
    expect(r.latency.sendToDeliver.count).toBe(5);
    expect(r.deliverHistogram.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(r.passed).toBe(true);
  });

  it('fails a run that lost an accepted envelope or was stopped by the duration cap', () => {
    expect(report('completed', 2)).toMatchObject({ passed: false, totals: { lost: 2 } });
    expect(report('duration-cap', 0).passed).toBe(false);
  });

  it('never writes a registration token into the report', () => {
    const text = JSON.stringify(report('completed', 0));
    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('other-secret');
    expect(redactedCommand(['--registration-token', 't', '--accounts', '5'])).toEqual([
      '--registration-token',
      '<redacted>',
      '--accounts',
      '5',
    ]);
  });
});
