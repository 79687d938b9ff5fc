export { CryptoModule } from './crypto.module';
export { SODIUM, SODIUM_PROVIDER } from './sodium.provider';
export { initCrypto } from './sodium-init.util';
export { verifyXEdDsa } from './xeddsa.verifier';
export { verifyEd25519, ED25519_PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './ed25519.verifier';
export { verifyIdentitySignature, identityKeyKind } from './identity-signature.verifier';
export type { IdentityKeyKind } from './identity-signature.verifier';
export { sha256 } from './hash.util';
export { randomBytes, constantTimeEqual } from './random.util';
export { newBearerToken, hashBearerToken, newSecretCode, hashSecretCode, BEARER_TOKEN_BYTES } from './secret-token.util';
export type { BearerToken, SecretCode } from './secret-token.util';
export {
  EC_PUBLIC_KEY_TYPE,
  EC_PUBLIC_KEY_LENGTH,
  KEM_KEY_TYPE_KYBER1024,
  KEM_KEY_TYPE_MLKEM1024,
  KEM_PUBLIC_KEY_TYPES,
  isEcPublicKey,
  isKemPublicKey,
} from './key-formats';
export { generateEd25519KeyPair, signEd25519 } from './ed25519.signer';
export type { Ed25519KeyPair } from './ed25519.signer';
export { canonicalJson } from './canonical-json';
export { libsignal } from './libsignal.loader';
export type { Libsignal } from './libsignal.loader';
export { createSecretFile } from './secret-files';
export { addKeyGeneration, keyGenerationFileName, listKeyGenerations } from './key-generations';
export type { KeyGeneration } from './key-generations';
export { ServerSecret, SERVER_SECRET_FILE } from './server-secret';
export { ServerSecretModule } from './server-secret.module';
export { MetadataPseudonyms } from './metadata-pseudonyms';
export { AtRestCipher } from './at-rest-cipher';
