import type { BundleResponse, SignedKey } from '@sealpost/contracts';
import type { TakenBundle } from './single-use-prekey-store.repository';

const signedKeyJson = (key: SignedKey) => ({
  keyId: key.keyId,
  publicKey: key.publicKey.toString('base64'),
  signature: key.signature.toString('base64'),
});

export function toBundleResponse(address: string, bundle: TakenBundle): BundleResponse {
  return {
    address,
    accountId: bundle.accountId,
    identityKey: bundle.identityKey.toString('base64'),
    devices: bundle.devices.map((d) => ({
      deviceId: d.deviceId,
      registrationId: d.registrationId,
      signedPreKey: signedKeyJson(d.signedPreKey),
      preKey: d.preKey && { keyId: d.preKey.keyId, publicKey: d.preKey.publicKey.toString('base64') },
      pqPreKey: signedKeyJson(d.pqPreKey),
    })),
  };
}
