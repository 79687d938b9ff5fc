import { CommonConfig, readCommonConfig } from './common.config';
import { Env, EnvReader } from './env-reader';

export interface RelayConfig extends CommonConfig {
  port: number;
}

export function loadRelayConfig(source: Env = process.env): RelayConfig {
  const env = new EnvReader(source);
  return env.finish({ ...readCommonConfig(env), port: env.int('RELAY_PORT', 8082, 0, 65535) });
}
