import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import { verifyContentDigest } from '@sealpost/http-signatures';
import { AdmittedRequest, refuseSignature } from './federation-admission.service';

/**
 * The handler-side check of a server-to-server request. The request was judged on its headers by
 * FederationAdmission (installFederationAdmission, before the body was read) and its body checked
 * against its Content-Digest while it was read; this guard refuses anything that did not pass
 * that way (a route missing SignedFederationRoute fails closed), and checks the digest of a
 * request that had no body.
 */
@Injectable()
export class FederationAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AdmittedRequest & { rawBody?: Buffer }>();
    const admission = request.federationAdmission;
    if (!admission) throw refuseSignature('unauthenticated');
    if (!admission.bodyDigestVerified) {
      const header = request.headers['content-digest'];
      if (request.rawBody !== undefined || !verifyContentDigest(Array.isArray(header) ? header[0] : header, Buffer.alloc(0))) {
        throw refuseSignature('content-digest does not match the body');
      }
    }
    return true;
  }
}

/** The verified origin server of a federation request (use with SignedFederationRoute). */
export const FederationOrigin = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const origin = context.switchToHttp().getRequest<AdmittedRequest>().federationAdmission?.origin;
  if (!origin) throw refuseSignature('unauthenticated');
  return origin;
});
