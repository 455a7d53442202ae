// Reads keys from the environment or an encrypted JSON keystore. Keys never reach a log or an error.
import { readFileSync } from 'node:fs';
import { Wallet } from 'ethers';
import { ErrorCode, IsorelayError } from '../errors/base.js';
import type { SecretRef } from './schema.js';

export async function loadWallet(role: string, ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
  if ('env' in ref) {
    const key = env[ref.env];
    if (key === undefined || key === '')
      throw new IsorelayError(ErrorCode.SECRET_MISSING, `the ${role} key is not set: environment variable ${ref.env} is empty`, {
        guidance: [`export ${ref.env}=0x… (a 32-byte hex private key), then run the command again.`],
      });
    try {
      return new Wallet(key.trim());
    } catch {
      // The cause is deliberately dropped: it would carry the malformed key.
      throw new IsorelayError(ErrorCode.SECRET_MISSING, `the ${role} key in ${ref.env} is not a valid private key`, {
        guidance: ['It must be 0x followed by 64 hex digits.'],
      });
    }
  }
  const password = env[ref.passwordEnv];
  if (password === undefined)
    throw new IsorelayError(ErrorCode.SECRET_MISSING, `the ${role} keystore password is not set: ${ref.passwordEnv} is empty`);
  let json: string;
  try {
    json = readFileSync(ref.keystore, 'utf8');
  } catch (cause) {
    throw new IsorelayError(ErrorCode.SECRET_MISSING, `cannot read the ${role} keystore file ${ref.keystore}`, { cause });
  }
  try {
    const w = await Wallet.fromEncryptedJson(json, password);
    return w instanceof Wallet ? w : new Wallet(w.privateKey);
  } catch {
    throw new IsorelayError(ErrorCode.SECRET_MISSING, `cannot decrypt the ${role} keystore ${ref.keystore}: wrong password or not a keystore`);
  }
}

/**
 * Keys are separated by role (RELIABILITY 10): the gas key, the DVN signer and each attester are
 * different keys. Refuses one key in two roles, naming the roles and the address (never the key).
 */
export function assertKeysSeparated(roles: readonly { role: string; address: string }[]): void {
  const seen = new Map<string, string>();
  for (const { role, address } of roles) {
    const first = seen.get(address.toLowerCase());
    if (first !== undefined)
      throw new IsorelayError(ErrorCode.KEY_ROLE_CONFLICT, `the ${first} key and the ${role} key are the same key (${address})`, {
        guidance: [
          'Give every role its own key: the gas key cannot by itself authorise a credit, and a verifier or attester key that also pays gas is one compromise away from both.',
          'See docs/operations.md, "Keys by role".',
        ],
      });
    seen.set(address.toLowerCase(), role);
  }
}
