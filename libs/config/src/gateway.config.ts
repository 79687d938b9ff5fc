import { CommonConfig, readCommonConfig } from './common.config';
import { Env, EnvReader } from './env-reader';

export interface GatewayConfig extends CommonConfig {
  port: number;
  /** Base URL under which clients and peers reach this homeserver (serves /.well-known/sealpost). */
  publicUrl: string;
  directoryUrl: string;
  relayUrl: string;
}

export function loadGatewayConfig(source: Env = process.env): GatewayConfig {
  const env = new EnvReader(source);
  const common = readCommonConfig(env);
  const port = env.int('GATEWAY_PORT', 8080, 0, 65535);
  const local = (p: number) => `http://${common.host === '0.0.0.0' ? '127.0.0.1' : common.host}:${p}`;
  const publicUrl = env.url('PUBLIC_URL', local(port), ['http:', 'https:']);
  return env.finish({
    ...common,
    port,
    publicUrl: publicUrl.replace(/\/$/, ''),
    directoryUrl: env.url('PUBLIC_DIRECTORY_URL', local(env.int('DIRECTORY_PORT', 8081, 0, 65535)), ['http:', 'https:']).replace(/\/$/, ''),
    relayUrl: env.url('PUBLIC_RELAY_URL', local(env.int('RELAY_PORT', 8082, 0, 65535)), ['http:', 'https:']).replace(/\/$/, ''),
  });
}
