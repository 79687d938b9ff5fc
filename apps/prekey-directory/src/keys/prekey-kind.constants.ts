/** Stored `kind` column values of both prekey tables. */
export const KeyKind = { Ec: 1, Pq: 2 } as const;
export type KeyKind = (typeof KeyKind)[keyof typeof KeyKind];
