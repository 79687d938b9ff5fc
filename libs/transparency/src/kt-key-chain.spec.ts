import { generateEd25519KeyPair, initCrypto, signEd25519 } from '@sealpost/crypto';
import { KtKeyEntry, ktKeyEndorsementBytes, trustedKtKeys } from './kt-key-chain';

type Pair = ReturnType<typeof generateEd25519KeyPair>;

function entry(server: string, keyId: string, pair: Pair, endorser?: { keyId: string; pair: Pair }): KtKeyEntry {
  const publicKey = pair.publicKey.toString('base64');
  if (!endorser) return { keyId, publicKey };
  const endorsement = signEd25519(endorser.pair.secretKey, ktKeyEndorsementBytes(server, keyId, publicKey)).toString('base64');
  return { keyId, publicKey, endorsedBy: endorser.keyId, endorsement };
}

describe('trustedKtKeys', () => {
  let k1: Pair;
  let k2: Pair;
  let k3: Pair;
  beforeAll(async () => {
    await initCrypto();
    [k1, k2, k3] = [generateEd25519KeyPair(), generateEd25519KeyPair(), generateEd25519KeyPair()];
  });
  const chain = (server = 'alpha.test') => [
    entry(server, 'a', k1),
    entry(server, 'b', k2, { keyId: 'a', pair: k1 }),
    entry(server, 'c', k3, { keyId: 'b', pair: k2 }),
  ];

  it('follows endorsements forward from the pinned key, and only forward', () => {
    const doc = { server: 'alpha.test', keys: chain() };
    expect([...trustedKtKeys(doc, k1.publicKey.toString('base64')).keys()]).toEqual(['a', 'b', 'c']);
    expect([...trustedKtKeys(doc, k2.publicKey.toString('base64')).keys()]).toEqual(['b', 'c']);
    expect(trustedKtKeys(doc, k3.publicKey.toString('base64')).get('c')).toEqual(k3.publicKey);
  });

  it('trusts nothing when the pinned key is not in the document', () => {
    expect(trustedKtKeys({ server: 'alpha.test', keys: chain().slice(1) }, k1.publicKey.toString('base64')).size).toBe(0);
  });

  it('stops at a key whose endorsement does not verify: flipped bit, another server, wrong endorser', () => {
    const flipped = chain();
    const sig = Buffer.from(flipped[1].endorsement!, 'base64');
    sig[5] ^= 1;
    flipped[1] = { ...flipped[1], endorsement: sig.toString('base64') };
    expect([...trustedKtKeys({ server: 'alpha.test', keys: flipped }, k1.publicKey.toString('base64')).keys()]).toEqual(['a']);

    // Endorsements made for beta.test do not carry over to a document of alpha.test.
    expect([...trustedKtKeys({ server: 'alpha.test', keys: chain('beta.test') }, k1.publicKey.toString('base64')).keys()]).toEqual(['a']);

    // A key that claims an endorser it was not signed by.
    const forged = [entry('alpha.test', 'a', k1), { ...entry('alpha.test', 'x', k3, { keyId: 'a', pair: k2 }) }];
    expect([...trustedKtKeys({ server: 'alpha.test', keys: forged }, k1.publicKey.toString('base64')).keys()]).toEqual(['a']);
  });
});
