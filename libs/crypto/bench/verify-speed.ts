/**
 * Signature-verification throughput of the candidate implementations (see docs/CRYPTO.md).
 *
 *   npm run build && node dist/libs/crypto/bench/verify-speed.js [--ms=1000]
 *
 * Needs plain Node >= 20.19 (loads the ESM-only @signalapp/libsignal-client through require(esm)).
 */
import { KeyObject, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import sodium from 'libsodium-wrappers';
import { clearEdwardsYCache, montgomeryUToEdwardsY } from '../src/montgomery-edwards.util';
import { initCrypto } from '../src/sodium-init.util';
import { verifyXEdDsa } from '../src/xeddsa.verifier';

const VECTORS = 256;
const durationArg = process.argv.find((arg) => arg.startsWith('--ms='));
const DURATION_MS = durationArg ? Number(durationArg.slice(5)) : 1000;

interface Row {
  case: string;
  'ops/s': number;
  'µs/op': number;
}

/** Runs `op(i)` over the vector indices for about DURATION_MS (after a short warm-up). */
function measure(name: string, op: (i: number) => boolean): Row {
  for (let i = 0; i < 200; i++) if (!op(i % VECTORS)) throw new Error(`${name}: verification failed during warm-up`);
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(DURATION_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let k = 0; k < 50; k++, ops++) if (!op(ops % VECTORS)) throw new Error(`${name}: verification failed`);
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - start) / 1e9;
  return { case: name, 'ops/s': Math.round(ops / seconds), 'µs/op': Number(((seconds / ops) * 1e6).toFixed(1)) };
}

function ed25519RawToKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

async function main(): Promise<void> {
  await initCrypto();
  const message = new Uint8Array(33).fill(7); // same size as a serialised signed prekey

  const ed = Array.from({ length: VECTORS }, () => {
    const { publicKey, privateKey } = sodium.crypto_sign_keypair();
    return { publicKey, signature: sodium.crypto_sign_detached(message, privateKey), keyObject: ed25519RawToKeyObject(publicKey) };
  });
  const xed = Array.from({ length: VECTORS }, () => {
    const identity = PrivateKey.generate();
    const publicKey = identity.getPublicKey();
    return { key: publicKey.serialize(), libsignalKey: publicKey, signature: identity.sign(message) };
  });
  const libsignalKeys: PublicKey[] = xed.map((v) => v.libsignalKey);

  const rows: Row[] = [
    measure('Ed25519  libsodium crypto_sign_verify_detached', (i) =>
      sodium.crypto_sign_verify_detached(ed[i].signature, message, ed[i].publicKey),
    ),
    measure('Ed25519  node:crypto verify (cached KeyObject)', (i) => nodeVerify(null, message, ed[i].keyObject, ed[i].signature)),
    measure('Ed25519  node:crypto verify (+ JWK import per call)', (i) =>
      nodeVerify(null, message, ed25519RawToKeyObject(ed[i].publicKey), ed[i].signature),
    ),
    measure('Mont→Ed  BigInt conversion only (u^(p-2))', (i) => montgomeryUToEdwardsY(xed[i].key.subarray(1)) !== null),
    measure('XEdDSA   verifyXEdDsa, conversion uncached', (i) => {
      clearEdwardsYCache();
      return verifyXEdDsa(xed[i].key, message, xed[i].signature);
    }),
    measure('XEdDSA   verifyXEdDsa, conversion cached (LRU hit)', (i) => verifyXEdDsa(xed[i].key, message, xed[i].signature)),
    measure('XEdDSA   libsignal-client PublicKey.verify (native ref.)', (i) => libsignalKeys[i].verify(message, xed[i].signature)),
  ];
  clearEdwardsYCache();

  console.log(`node ${process.version}, ${process.arch}, ${VECTORS} keys, ~${DURATION_MS} ms per case, 33-byte message`);
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
