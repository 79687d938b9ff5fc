import sodium from 'libsodium-wrappers';

/** A server's own Ed25519 key pair (libsodium layout: 64-byte secret key = seed ‖ public key). */
export interface Ed25519KeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  const pair = sodium.crypto_sign_keypair();
  return { publicKey: Buffer.from(pair.publicKey), secretKey: Buffer.from(pair.privateKey) };
}

export function signEd25519(secretKey: Uint8Array, message: Uint8Array | string): Buffer {
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return Buffer.from(sodium.crypto_sign_detached(bytes, secretKey));
}
