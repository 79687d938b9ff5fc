export { BusModule, BUS_CLIENT, busServerStrategy, createBusClient } from './bus.module';
export type { BusOptions } from './bus.module';
export { NoBusReceiverError } from './namespaced-redis.transport';
