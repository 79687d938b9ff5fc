/** RFC 8941 structured field values, as parsed by structured-field.parser.ts. */

export type BareItem =
  | { type: 'integer'; value: number }
  | { type: 'decimal'; value: number }
  | { type: 'string'; value: string }
  | { type: 'token'; value: string }
  | { type: 'binary'; value: Uint8Array }
  | { type: 'boolean'; value: boolean };

/** Parameters in wire order. Duplicate keys are kept, and callers that care must reject them. */
export type SfParameters = Array<[key: string, value: BareItem]>;

export interface SfItem {
  kind: 'item';
  value: BareItem;
  params: SfParameters;
}

export interface SfInnerList {
  kind: 'inner-list';
  items: SfItem[];
  params: SfParameters;
}

export type SfMember = SfItem | SfInnerList;

/** Dictionary members in wire order. Duplicate keys are kept, and callers that care must reject them. */
export type SfDictionary = Array<[key: string, value: SfMember]>;
