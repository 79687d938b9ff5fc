import { Controller, Get, UseGuards } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DirectoryPattern, SealedSenderTrustRootsReply } from '@sealpost/contracts';
import { identityKeyKind } from '@sealpost/crypto';
import { ApiError } from '@sealpost/http';
import { CurrentDevice, DeviceAuthGuard } from '../auth/device-auth.guard';
import type { DevicePrincipal } from '../devices/devices.repository';
import { SENDER_CERTIFICATE_LIFETIME_MS, SealedSenderKeys } from './sealed-sender-keys.service';

@Controller('v1/certificate')
export class CertificateController {
  constructor(private readonly keys: SealedSenderKeys) {}

  /** A libsignal SenderCertificate for the calling device, chaining to the trust root in discovery. */
  @Get('delivery')
  @UseGuards(DeviceAuthGuard)
  delivery(@CurrentDevice() device: DevicePrincipal): { certificate: string; expiresAt: string } {
    if (identityKeyKind(device.identityKey) !== 'curve25519') {
      throw new ApiError(422, 'unsupported_identity_key', 'sealed sender certificates need a Curve25519 identity key');
    }
    const expiresAt = Date.now() + SENDER_CERTIFICATE_LIFETIME_MS;
    const certificate = this.keys.senderCertificate(device.accountId, device.deviceId, device.identityKey, expiresAt);
    return { certificate: certificate.toString('base64'), expiresAt: new Date(expiresAt).toISOString() };
  }

  @MessagePattern(DirectoryPattern.SealedSenderTrustRoot)
  trustRoot(): SealedSenderTrustRootsReply {
    return {
      trustRoot: this.keys.trustRootPublicKey().toString('base64'),
      previousTrustRoots: this.keys.previousTrustRootPublicKeys().map((k) => k.toString('base64')),
    };
  }
}
