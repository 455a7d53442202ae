// Root hooks: the shared devnet and PostgreSQL server are stopped once, after every test file has run.
import { stopSharedDevnet } from './devnet.js';
import { stopSharedPostgres } from './postgres.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopSharedDevnet();
    await stopSharedPostgres();
  },
};
