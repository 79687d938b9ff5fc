import { LoadUsageError } from './load-args-values';
import { parseLoadArgs } from './parse-load-args';

const run = (argv: string[]) => {
  const command = parseLoadArgs(argv);
  if (command.kind !== 'run') throw new Error(`expected a run, got ${command.kind}`);
  return command;
};
const refused = (argv: string[]) => {
  try {
    parseLoadArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(LoadUsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

describe('parseLoadArgs: the sealpost loadtest command line', () => {
  it('resolves a constant-rate run with its defaults', () => {
    const { options } = run(['--server', 'https://alpha.example/', '--rate', '500', '--duration', '1m']);
    expect(options.servers).toEqual(['https://alpha.example']);
    expect(options.stages).toEqual([{ label: '1m:500', durationSeconds: 60, rateTo: 500 }]);
    expect(options.startRate).toBe(500);
    expect(options.federatedShare).toBe(0);
    expect(options.maxDurationSeconds).toBe(60 + 10 + 60);
    expect(options.senders).toBe(100);
  });

  it('takes stages in order, ramping from 0, and shares of two targets', () => {
    const { options } = run([
      '--spawn',
      '2',
      '--stage',
      '30s:1000',
      '--stage',
      '2m:4000',
      '--stage',
      '30s:0',
      '--sealed-share',
      '25%',
      '--size',
      '300',
    ]);
    expect(options.stages.map((s) => [s.durationSeconds, s.rateTo])).toEqual([
      [30, 1000],
      [120, 4000],
      [30, 0],
    ]);
    expect(options.startRate).toBe(0);
    expect(options.federatedShare).toBe(0.5);
    expect(options.sealedShare).toBe(0.25);
    expect(options.size).toEqual({ min: 300, max: 300 });
  });

  it('collects repeatable flags: servers, tokens, metrics, thresholds', () => {
    const command = run([
      '--server',
      'https://a.example',
      '--server',
      'https://b.example',
      '--registration-token',
      't1',
      '--registration-token',
      't2',
      '--metrics',
      'relay@a.example=http://10.0.0.5:8081/metrics',
      '--threshold',
      'p99<50ms',
      '--threshold',
      'lost==0',
      '--json',
      'r.json',
    ]);
    expect(command.options.registrationTokens).toEqual(['t1', 't2']);
    expect(command.options.metrics).toEqual([{ service: 'relay', server: 'a.example', url: 'http://10.0.0.5:8081/metrics' }]);
    expect(command.options.thresholds).toEqual(['p99<50ms', 'lost==0']);
    expect(command.jsonFile).toBe('r.json');
  });

  it.each([
    [['--rate', '10'], /no target/],
    [['--spawn', '2', '--bogus'], /Unknown option '--bogus'/],
    [['--spawn', '2', '--server', 'https://a.example'], /exclude each other/],
    [['--spawn', '2', '--stage', '30s'], /DURATION:RATE/],
    [['--spawn', '2', '--stage', '10s:5', '--rate', '5'], /--stage excludes/],
    [['--spawn', '2', '--duration', 'soon'], /not a duration/],
    [['--spawn', '1', '--federated-share', '0.5'], /two or more targets/],
    [['--spawn', '1', '--multi-device-share', '0.5'], /devices-per-account 2/],
    [['--spawn', '1', '--devices-per-account', '33'], /1\.\.32/],
    [['--spawn', '1', '--size', '8'], /16\.\.65536/],
    [['--spawn', '1', '--metrics', 'db=http://x/metrics'], /SERVICE\[@SERVER\]=URL/],
    [['--spawn', '1', '--verify', '--rate', '1000', '--duration', '1m'], /at most 30000 sends/],
    [['--spawn', '1', '--accounts', '2', '--workers', '3'], /more than the 2 sending devices/],
    [
      ['--server', 'https://a', '--server', 'https://b', '--server', 'https://c', '--registration-token', 'x', '--registration-token', 'y'],
      /one per target \(3\)/,
    ],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(refused(argv as string[])).toMatch(message as RegExp);
  });

  it('reads --compare with two files and --help', () => {
    expect(parseLoadArgs(['--compare', 'a.json', 'b.json'])).toEqual({ kind: 'compare', files: ['a.json', 'b.json'] });
    expect(parseLoadArgs(['--help'])).toEqual({ kind: 'help' });
    expect(refused(['--compare', 'a.json'])).toMatch(/two report files/);
  });
});
