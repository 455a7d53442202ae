// The doctor's checks of a destination: the relayer's DVN roles and the DVN's quorum, the engine's
// executors and roles (owner timelock, pauser), and the relayer's gas.
import { formatEther } from 'ethers';
import type { ChainClient } from '../../chains/client.js';
import { ADMIN_ROLE, dvnIface, engineIface, timelockIface } from './abis.js';
import { fail, pass, warn, type Checks } from './checks.js';
import type { Keys } from './keys.js';

/** What the relayer needs on a destination: DVN admin and signer, the DVN's quorum, gas. */
export async function checkDestination(client: ChainClient, keys: Keys, out: Checks): Promise<void> {
  const lz = client.config.layerzero;
  if (lz !== undefined) {
    const dvn = lz.dvn;
    if (keys.relayer !== null) {
      const relayer = keys.relayer.address;
      await out.run('relayer key is a DVN admin', async () =>
        ((await out.read(client, dvnIface, dvn, 'hasRole', [ADMIN_ROLE, relayer]))[0] as boolean)
          ? pass(`${relayer} has ADMIN_ROLE on DVN ${dvn}`)
          : fail(`${relayer} lacks ADMIN_ROLE on DVN ${dvn}: it cannot submit verifications (grantRole(ADMIN_ROLE, ${relayer}))`),
      );
    }
    if (keys.dvnSigner !== null) {
      const signer = keys.dvnSigner.address;
      await out.run('DVN signer key is a DVN signer', async () =>
        ((await out.read(client, dvnIface, dvn, 'signers', [signer]))[0] as boolean)
          ? pass(`${signer} is a signer of DVN ${dvn}`)
          : fail(`${signer} is not a signer of DVN ${dvn}: its signatures will be refused (setSigner)`),
      );
    }
    for (const more of lz.moreDvns) {
      if (keys.relayer !== null) {
        const relayer = keys.relayer.address;
        await out.run(`relayer key is an admin of DVN ${more.address}`, async () =>
          ((await out.read(client, dvnIface, more.address, 'hasRole', [ADMIN_ROLE, relayer]))[0] as boolean)
            ? pass(`${relayer} has ADMIN_ROLE`)
            : fail(`${relayer} lacks ADMIN_ROLE on DVN ${more.address}: it cannot submit its verifications`),
        );
      }
      const signer = keys.dvnSigners[more.signer];
      if (signer !== null && signer !== undefined) {
        await out.run(`DVN signer "${more.signer}" is a signer of DVN ${more.address}`, async () =>
          ((await out.read(client, dvnIface, more.address, 'signers', [signer.address]))[0] as boolean)
            ? pass(signer.address)
            : fail(`${signer.address} is not a signer of DVN ${more.address}: its signatures will be refused`),
        );
      }
    }
    await out.run('DVN quorum', async () => {
      const quorum = (await out.read(client, dvnIface, dvn, 'quorum'))[0] as bigint;
      if (quorum === 0n) return fail('the DVN quorum is 0');
      return quorum === 1n ? pass('quorum 1: our signer alone verifies') : warn(`quorum ${quorum}: our signer alone cannot verify; ${quorum - 1n} other signer(s) must sign each verification`);
    });
  }
  const engine = client.config.engine;
  if (engine !== undefined && keys.relayer !== null) {
    const executor = client.config.batcher ?? keys.relayer.address;
    await out.run('the relayer may execute CREDITs on the engine', async () =>
      ((await out.read(client, engineIface, engine, 'executors', [executor]))[0] as boolean)
        ? pass(`${executor} is an executor`)
        : fail(`${executor} is not an executor of the engine: every CREDIT it delivers reverts (setExecutor)`),
    );
  }
  if (engine !== undefined) await checkEngineRoles(client, engine, out);
  if (keys.relayer !== null) {
    const relayer = keys.relayer.address;
    await out.run('relayer has gas', async () => {
      const balance = BigInt(await client.rpc.call<string>('eth_getBalance', [relayer, 'latest']));
      return balance > 0n ? pass(`${relayer} holds ${formatEther(balance)} native`) : fail(`${relayer} holds no native token on ${client.name}: it cannot pay for deliveries`);
    });
  }
}

/** Who holds each of the engine's roles: the owner (a timelock, and its delay), the pauser, and whether it is paused. */
async function checkEngineRoles(client: ChainClient, engine: string, out: Checks): Promise<void> {
  await out.run('engine owner is a timelock', async () => {
    const owner = (await out.read(client, engineIface, engine, 'owner'))[0] as string;
    try {
      const [delay] = await out.read(client, timelockIface, owner, 'getMinDelay');
      const seconds = delay as bigint;
      // The delay is the operator's choice (hours in production, seconds on a devnet); none is no timelock.
      return seconds > 0n ? pass(`${owner}: every admin action waits ${seconds} s`) : warn(`${owner} is a timelock with no delay: admin actions land at once`);
    } catch {
      return warn(`${owner} is not a timelock: markets, collateral and sources change at once (docs/operations.md)`);
    }
  });
  await out.run('engine pause role', async () => {
    const [pauser] = await out.read(client, engineIface, engine, 'pauser');
    const [paused] = await out.read(client, engineIface, engine, 'paused');
    if (paused === true) return warn(`paused by ${pauser as string}: credits wait and no position opens until setPaused(false)`);
    return BigInt(pauser as string) === 0n ? warn('no pauser: only the owner (through its timelock) can pause') : pass(`${pauser as string} can pause at once`);
  });
}
