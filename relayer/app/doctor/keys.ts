// The doctor's key checks: every configured key loads (named by where it is read from), and no
// key serves two roles.
import type { Wallet } from 'ethers';
import type { Config, SecretRef } from '../../config/schema.js';
import { assertKeysSeparated, loadWallet } from '../../config/secrets.js';
import { errorSummary } from '../../errors/base.js';
import { fail, pass, type Checks } from './checks.js';

/** The keys that loaded (null: that one did not). */
export interface Keys { relayer: Wallet | null; dvnSigner: Wallet | null; dvnSigners: Record<string, Wallet | null>; attesters: (Wallet | null)[] }

async function loadKey(role: string, ref: SecretRef, env: NodeJS.ProcessEnv, out: Checks): Promise<Wallet | null> {
  const where = 'env' in ref ? `environment variable ${ref.env}` : `keystore ${ref.keystore}`;
  try {
    const w = await loadWallet(role, ref, env);
    out.add(`${role} key`, pass(`${w.address} (from ${where})`));
    return w;
  } catch (e) {
    out.add(`${role} key`, fail(errorSummary(e)));
    return null;
  }
}

/** Loads every key the config names, as the daemon would, each a check; then checks no key serves two roles. */
export async function loadKeys(config: Config, env: NodeJS.ProcessEnv, keyChecks: Checks): Promise<Keys> {
  const keeperOn = config.keeper?.enabled === true;
  const keys: Keys = {
    relayer: await loadKey('relayer', config.keys.relayer, env, keyChecks),
    dvnSigner: config.keys.dvnSigner === undefined ? null : await loadKey('DVN signer', config.keys.dvnSigner, env, keyChecks),
    dvnSigners: {},
    attesters: [],
  };
  for (const [name, ref] of Object.entries(config.keys.dvnSigners)) keys.dvnSigners[name] = await loadKey(`DVN signer "${name}"`, ref, env, keyChecks);
  // The daemon loads attester keys only for the keeper; without it they need not be set.
  if (keeperOn) for (const [i, ref] of (config.keys.attesters ?? []).entries()) keys.attesters.push(await loadKey(`attester ${i + 1}`, ref, env, keyChecks));
  const loaded = [
    ...(keys.relayer === null ? [] : [{ role: 'relayer (gas)', address: keys.relayer.address }]),
    ...(keys.dvnSigner === null ? [] : [{ role: 'DVN signer', address: keys.dvnSigner.address }]),
    ...Object.entries(keys.dvnSigners).flatMap(([name, w]) => (w === null ? [] : [{ role: `DVN signer "${name}"`, address: w.address }])),
    ...keys.attesters.flatMap((w, i) => (w === null ? [] : [{ role: `attester ${i + 1}`, address: w.address }])),
  ];
  try {
    assertKeysSeparated(loaded);
    keyChecks.add('every role has its own key', pass(`${loaded.length} keys`));
  } catch (e) {
    keyChecks.add('every role has its own key', fail(errorSummary(e)));
  }
  return keys;
}
