export { claimedSha256, contentDigest, verifyContentDigest } from './content-digest.util';
export { COVERED_COMPONENTS, DEFAULT_SIGNATURE_LABEL, SIGNATURE_ALGORITHM } from './http-signature.constants';
export { signatureBase, serializeSignatureParams } from './signature-base.util';
export { signRequest } from './request.signer';
export { parseSignatureHeaders } from './signature-headers.parser';
export { verifyRequestSignature } from './request-signature.verifier';
export { checkSignaturePolicy } from './signature-policy.util';
export type {
  SignedRequestParts,
  SignatureParams,
  ParsedSignatureParams,
  ParsedSignature,
  SignRequestOptions,
  SignatureHeaders,
  SignaturePolicyOptions,
} from './http-signature.types';
