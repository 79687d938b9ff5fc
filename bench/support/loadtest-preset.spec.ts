import { RELAY_PRESET } from '../relay.bench';
import { FEDERATION_PRESET } from '../federation.bench';
import { CONNECTIONS_PRESET } from '../connections.bench';
import { PresetUsageError, parsePresetArgs, presetUsage, runPreset } from './loadtest-preset';

describe('bench presets of the load engine', () => {
  it('bench:relay maps its flags onto one spawned homeserver, sealed, not federated', () => {
    const parsed = parsePresetArgs(RELAY_PRESET, ['--rate', '500', '--seconds', '10', '--warmup', '2']);
    if (parsed.help) throw new Error('expected a run');
    const options = RELAY_PRESET.options(parsed.values);
    expect(options).toMatchObject({ spawn: 1, accounts: 200, federatedShare: 0, sealedShare: 1, warmupSends: 1000, drainSeconds: 5 });
    expect(options.stages).toEqual([{ label: '10s:500', durationSeconds: 10, rateTo: 500 }]);
  });

  it('bench:federation sends every message to the other of two homeservers', () => {
    const parsed = parsePresetArgs(FEDERATION_PRESET, []);
    if (parsed.help) throw new Error('expected a run');
    expect(FEDERATION_PRESET.options(parsed.values)).toMatchObject({ spawn: 2, federatedShare: 1, senders: 50, accounts: 250 });
  });

  it('bench:connections holds its sockets through one stage at rate 0', () => {
    const parsed = parsePresetArgs(CONNECTIONS_PRESET, ['--connections', '100', '--devices-per-account', '4', '--idle', '3']);
    if (parsed.help) throw new Error('expected a run');
    const options = CONNECTIONS_PRESET.options(parsed.values);
    expect(options).toMatchObject({ spawn: 1, accounts: 25, devicesPerAccount: 4, startRate: 0 });
    expect(options.stages).toEqual([{ label: '3s:0', durationSeconds: 3, rateTo: 0 }]);
  });

  it('refuses an unknown flag, a dropped one and a value below its minimum', () => {
    expect(() => parsePresetArgs(RELAY_PRESET, ['--http-connections', '10'])).toThrow(PresetUsageError);
    expect(() => parsePresetArgs(RELAY_PRESET, ['--rate', '0'])).toThrow('--rate must be a number');
    expect(() => parsePresetArgs(CONNECTIONS_PRESET, ['--idle', 'x'])).toThrow(PresetUsageError);
    expect(presetUsage(RELAY_PRESET)).toContain('No longer taken: --http-connections');
  });

  it('exits 2 on a usage error, before anything starts', async () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(runPreset(RELAY_PRESET, ['--nope'])).resolves.toBe(2);
      await expect(runPreset(RELAY_PRESET, ['--accounts', '2', '--workers', '3'])).resolves.toBe(2);
    } finally {
      write.mockRestore();
    }
  });
});
