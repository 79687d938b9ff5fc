/** Injection token of the relay's typed, validated config. */
export const RELAY_CONFIG = Symbol('RELAY_CONFIG');
/** This process's id among relay replicas (presence and wake-up routing). */
export const RELAY_INSTANCE_ID = Symbol('RELAY_INSTANCE_ID');
