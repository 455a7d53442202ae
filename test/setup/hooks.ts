// Root hooks: the shared devnet is stopped once, after every test file has run.
import { stopSharedDevnet } from './devnet.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopSharedDevnet();
  },
};
