/** Injection token of the gateway's typed, validated config. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
