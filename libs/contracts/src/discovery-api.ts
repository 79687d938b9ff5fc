/** `GET /.well-known/sealpost` (DESIGN §2): where clients and peers find every other URL and key of a homeserver. */
export interface DiscoveryDocument {
  server: string;
  directory: string;
  relay: string;
  federation: string;
  /** base64 of the sealed-sender trust root. */
  sealedSenderTrustRoot: string;
  /** Replaced trust roots whose sender certificates may still be valid (newest first); usually empty. */
  sealedSenderPreviousTrustRoots: string[];
  /** The directory's key-transparency tree-head key (Ed25519, base64). */
  ktPublicKey: string;
}
