import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import type { DirectoryConfig } from '@sealpost/config';
import { PRIMARY_DEVICE_ID, RegisterAccountRequest, RegisterAccountResponse } from '@sealpost/contracts';
import { constantTimeEqual, hashSecretCode, identityKeyKind, newBearerToken } from '@sealpost/crypto';
import { PG_POOL, withTransaction } from '@sealpost/db';
import { ApiError } from '@sealpost/http';
import { ValidationError } from '@sealpost/contracts';
import { DevicesRepository } from '../devices/devices.repository';
import { DeviceEventsPublisher } from '../devices/device-events.publisher';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { KeysManager } from '../keys/keys-manager.service';
import { assertKeysSignedByIdentity } from '../keys/prekey-signature.verifier';
import { AccountsRepository } from './accounts.repository';
import { RegistrationTokensRepository } from './registration-tokens.repository';
import { UnidentifiedAccessKeyVault } from './unidentified-access-key.vault';
import { TransparencyLog } from '../transparency/transparency-log.service';
import { DirectoryMetrics } from '../directory.metrics';

/** Registration: one transaction creates the account, its device 1 and its keys, and uses one token use. */
@Injectable()
export class AccountsService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    private readonly events: DeviceEventsPublisher,
    private readonly accounts: AccountsRepository,
    private readonly devices: DevicesRepository,
    private readonly registrationTokens: RegistrationTokensRepository,
    private readonly keys: KeysManager,
    private readonly transparency: TransparencyLog,
    private readonly metrics: DirectoryMetrics,
    private readonly accessKeys: UnidentifiedAccessKeyVault,
  ) {}

  async register(request: RegisterAccountRequest): Promise<RegisterAccountResponse> {
    if (!identityKeyKind(request.identityKey)) {
      throw new ValidationError('identityKey', 'must be a 33-byte Curve25519 key (type 0x05) or a 32-byte Ed25519 key');
    }
    assertKeysSignedByIdentity(request.identityKey, request);
    if (!this.config.openRegistration && !request.registrationToken) {
      throw new ApiError(403, 'registration_token_required', 'this homeserver needs a registration token');
    }
    const { token, hash } = newBearerToken();
    const accountId = await withTransaction(this.pool, async (tx) => {
      if (request.registrationToken && !this.config.openRegistration && !this.isStaticToken(request.registrationToken)) {
        const ok = await this.registrationTokens.consumeOneUse(hashSecretCode(request.registrationToken), tx);
        if (!ok) throw new ApiError(403, 'invalid_registration_token', 'the registration token is unknown, used up or expired');
      }
      const id = await this.accounts.insert(
        {
          localpart: request.localpart,
          identityKey: request.identityKey,
          unidentifiedAccessKeySealed: request.unidentifiedAccessKey
            ? this.accessKeys.seal(request.localpart, request.unidentifiedAccessKey)
            : null,
        },
        tx,
      );
      if (!id) throw new ApiError(409, 'localpart_taken', `the localpart "${request.localpart}" is taken`);
      await this.devices.insert(
        { accountId: id, deviceId: PRIMARY_DEVICE_ID, registrationId: request.registrationId, tokenHash: hash },
        tx,
      );
      await this.keys.storeNewDeviceKeys(id, PRIMARY_DEVICE_ID, request, tx);
      await this.transparency.appendDeviceList(id, tx);
      return id;
    });
    this.metrics.accountChanges.inc({ change: 'registration' });
    const address = `${request.localpart}@${this.config.serverName}`;
    await this.events.deviceListChanged(address);
    return { address, accountId, deviceId: PRIMARY_DEVICE_ID, token };
  }

  private isStaticToken(presented: string): boolean {
    const configured = this.config.staticRegistrationToken;
    return configured !== undefined && constantTimeEqual(Buffer.from(presented), Buffer.from(configured));
  }
}
