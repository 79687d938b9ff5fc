export { BusModule, BUS_CLIENT, busServerStrategy, createBusClient } from './bus.module';
export type { BusOptions } from './bus.module';
