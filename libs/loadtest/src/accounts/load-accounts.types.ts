/** A device's whole client state (identity key, token, prekeys, sessions), records by kind: the SDK's store, as plain data. */
export type StoreSnapshot = Record<string, Record<string, string>>;

/** One account of the run, as every worker knows it (no secrets beyond what sending to it needs). */
export interface LoadAccount {
  index: number;
  /** Index into the run's targets (its home homeserver). */
  target: number;
  address: string;
  /** The recipient's unidentified-access key: sealed sends to it present it. */
  accessKey: string;
  /** Global indexes of its devices, in device-id order (position = bit in the delivery mask). */
  devices: number[];
}

/** One device of the run. */
export interface LoadDevice {
  index: number;
  account: number;
  deviceId: number;
  /** Position among its account's devices (0 = primary). */
  position: number;
  /** The worker process that holds its socket (and sends as it, if it is a sender). */
  worker: number;
  sender: boolean;
  token: string;
  /** A sender's contacts (account indexes) by kind of recipient (`contactKind`): the only accounts it sends to. */
  contacts?: number[][];
}

/** The run's population, as the coordinator hands it to the workers. */
export interface LoadPopulation {
  accounts: LoadAccount[];
  devices: LoadDevice[];
}
