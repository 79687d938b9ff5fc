import type sodium from 'libsodium-wrappers';
import { verifyEd25519 } from './ed25519.verifier';
import { newBearerToken } from './secret-token.util';
import { SODIUM, SODIUM_PROVIDER } from './sodium.provider';

describe('SODIUM_PROVIDER', () => {
  it('resolves to a ready libsodium instance, after which the sync helpers work', async () => {
    expect(SODIUM_PROVIDER.provide).toBe(SODIUM);
    const lib = (await SODIUM_PROVIDER.useFactory()) as typeof sodium;
    const { publicKey, privateKey } = lib.crypto_sign_keypair();
    const message = Uint8Array.of(1, 2, 3);
    expect(verifyEd25519(publicKey, message, lib.crypto_sign_detached(message, privateKey))).toBe(true);
    expect(newBearerToken().token).toHaveLength(44);
  });
});
