import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type sodium from 'libsodium-wrappers';
import { CryptoModule } from './crypto.module';
import { SODIUM } from './sodium.provider';
import { newBearerToken, verifyEd25519 } from './index';

describe('CryptoModule', () => {
  it('initialises libsodium before the context is ready and exposes it as SODIUM', async () => {
    const app = await NestFactory.createApplicationContext(CryptoModule, { logger: false });
    try {
      const lib = app.get<typeof sodium>(SODIUM);
      const { publicKey, privateKey } = lib.crypto_sign_keypair();
      const message = Uint8Array.of(1, 2, 3);
      expect(verifyEd25519(publicKey, message, lib.crypto_sign_detached(message, privateKey))).toBe(true);
      expect(newBearerToken().token).toHaveLength(44);
    } finally {
      await app.close();
    }
  });
});
