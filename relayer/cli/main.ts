// The `isorelay` command line: parsing only; each command lives in commands/, one file each.
import { Command, Option } from 'commander';
import { packageVersion } from '../config/packageRoot.js';
import { errorSummary, isIsorelayError } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import { devnetCommand } from './commands/devnet.js';
import { doctorCommand } from './commands/doctor.js';
import { heldListCommand, heldRejectCommand, heldReleaseCommand } from './commands/held.js';
import { routeHaltedCommand, routeResumeCommand } from './commands/route.js';
import { lockCommand } from './commands/lock.js';
import { positionsCommand } from './commands/positions.js';
import { pricesCommand } from './commands/prices.js';
import { attesterCommand } from './commands/attester.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';

const program = new Command()
  .name('isorelay')
  .description('Cross-chain isolated margin relayer: watches collateral locks and delivers the credits (LayerZero v2).')
  .version(packageVersion())
  .showHelpAfterError();

program
  .command('devnet')
  .description('start three local chains with LayerZero v2 and our contracts, and run the relayer on them')
  .option('--demo', 'lock on both sources, wait for the credits, print a table and exit (non-zero unless every lock is credited exactly once)')
  .option('--no-relayer', 'run the chains, contracts and guardian only: relayers run elsewhere (e.g. containers) with the configs written to --dir')
  .option('--dir <dir>', 'where to write manifest.json, relayer.yaml and the store', '.devnet')
  .addOption(new Option('--port <port>', 'first RPC port (the chains take three in a row); 0 picks free ports').default(8545).argParser(Number))
  .addOption(new Option('--ops-port <port>', 'port of /healthz, /readyz, /metrics, /status').default(9464).argParser(Number))
  .option('--host <host>', 'where the chains and the guardian listen (0.0.0.0 in a container)', '127.0.0.1')
  .option('--advertise-host <host>', 'the host name others reach the devnet by, written into the URLs of the files in --dir (e.g. the compose service name)')
  .addOption(new Option('--guardian-port <port>', "the devnet guardian's port; 0 picks a free one").default(0).argParser(Number))
  .addOption(new Option('--instances <n>', 'also write relayer-1.yaml … relayer-N.yaml for N relayer instances, each with a gas key of its own (at most 4); their ops servers listen on --host').default(0).argParser(Number))
  .option('--store-url-env <var>', "with --instances: the instances share a PostgreSQL store whose URL is in this environment variable (else each has its own SQLite file)")
  .action(devnetCommand);

program
  .command('start')
  .description('run the relayer daemon')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .action(startCommand);

program
  .command('attester')
  .description('run one price attester in its own process: it reconciles prices itself and signs only what agrees (the keeper asks over HTTP)')
  .requiredOption('-c, --config <file>', 'config (YAML): the chains, markets and keeper chain it reads')
  .requiredOption('--key-env <var>', 'environment variable holding this attester\'s private key')
  .option('--host <host>', 'where to listen (loopback by default; anything else needs --token-env)', '127.0.0.1')
  .addOption(new Option('--port <port>', 'port to listen on; 0 picks a free one').default(9470).argParser(Number))
  .option('--token-env <var>', 'environment variable holding the bearer token the keeper must send')
  .action(attesterCommand);

program
  .command('status')
  .description('per route: counts by status, oldest pending; chain heads and finalized heads')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .option('--json', 'print JSON')
  .action(statusCommand);

program
  .command('prices <market>')
  .description("one market's feed on every configured chain, which count and why not, and the reconciled price (exit 1: no price)")
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .option('--json', 'print JSON')
  .action(pricesCommand);

program
  .command('lock')
  .description("a trader's helper: lock collateral on a source vault for a position on the destination")
  .requiredOption('-c, --config <file>', 'relayer config (YAML) naming the chains and the vault')
  .requiredOption('--chain <name>', 'source chain')
  .requiredOption('--token <address>', 'collateral token on the source chain')
  .requiredOption('--amount <amount>', 'amount in whole tokens, e.g. 2500 or 0.5')
  .requiredOption('--position <id>', 'position id on the destination')
  .option('--to <chain>', 'destination chain (default: the route of the source chain)')
  .option('--key-env <name>', 'environment variable holding the trader key', 'ISORELAY_TRADER_KEY')
  .action(lockCommand);

program
  .command('positions')
  .description("a trader's isolated positions on the destination engine, collateral per asset")
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .requiredOption('--trader <address>', 'trader address')
  .option('--json', 'print JSON')
  .action(positionsCommand);

const held = program.command('held').description('messages held for the operator (a SEIZE the source oracle disputes, a CREDIT above its route cap): list, release or reject one');
held
  .command('list')
  .description('held messages and why each was held')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .option('--json', 'print JSON')
  .action(heldListCommand);
held
  .command('release <id>')
  .description('deliver a held message without asking the guard again')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .option('--reason <text>', 'why (kept with the message)')
  .action(heldReleaseCommand);
held
  .command('reject <id>')
  .description('never deliver a held message (it becomes dead)')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .option('--reason <text>', 'why (kept with the message)')
  .action(heldRejectCommand);

const route = program.command('route').description('routes an incident halted (a reorg beyond finality) for every instance: list them, or resume one after investigating');
route
  .command('halted')
  .description('halted routes, since when and why')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .option('--json', 'print JSON')
  .action(routeHaltedCommand);
route
  .command('resume <route>')
  .description('lift a halt: running relayers scan and deliver the route again')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .action(routeResumeCommand);

program
  .command('doctor')
  .description('check RPCs, chain ids, contracts, roles and balances; say plainly what is wrong')
  .requiredOption('-c, --config <file>', 'relayer config (YAML)')
  .action(doctorCommand);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`${redactText(isIsorelayError(e) ? e.describe() : `error: ${errorSummary(e)}`)}\n`);
  process.exitCode = isIsorelayError(e) && e.code === 'USAGE' ? 2 : 1;
}
