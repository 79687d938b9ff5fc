import sodium from 'libsodium-wrappers';

/**
 * Resolves once libsodium's WebAssembly module is initialised. Every synchronous helper in this
 * library that touches libsodium (signature checks, random bytes, tokens) is only safe after this
 * has resolved. Nest apps get this for free through `CryptoModule`; scripts and tests call it.
 */
export async function initCrypto(): Promise<void> {
  await sodium.ready;
}
