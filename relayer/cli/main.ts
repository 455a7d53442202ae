// The `isorelay` command line: parsing only; each command lives in commands/, one file each.
// A command's module is imported when that command runs, so that `--version` and `--help` start
// without loading ethers and the rest (a few hundred milliseconds).
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageVersion } from '../config/packageRoot.js';
import { errorSummary, isIsorelayError } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import type { AttesterCommandOptions } from './commands/attester.js';
import type { DevnetOptions } from './commands/devnet.js';
import type { DoctorOptions } from './commands/doctor.js';
import type { HeldOptions } from './commands/held.js';
import type { LockOptions } from './commands/lock.js';
import type { MessageOptions } from './commands/message.js';
import type { OptionOptions } from './commands/option.js';
import type { PositionsOptions } from './commands/positions.js';
import type { PricesOptions } from './commands/prices.js';
import type { RouteOptions } from './commands/route.js';
import type { SendQueuedOptions } from './commands/sendQueued.js';
import type { StartOptions } from './commands/start.js';
import type { StatusOptions } from './commands/status.js';

// config/load.ts's CONFIG_ENV, written out here (its type keeps the two equal): importing load.ts
// would load the schema and ethers for `--help`.
const CONFIG_ENV: typeof import('../config/load.js').CONFIG_ENV = 'ISORELAY_CONFIG';

// config/logFormat.ts's LOG_FORMAT_ENV and schema.ts's formats, written out here for the same reason.
const LOG_FORMAT_ENV: typeof import('../config/logFormat.js').LOG_FORMAT_ENV = 'ISORELAY_LOG_FORMAT';
const LOG_FORMATS = ['json', 'pretty'] as const satisfies readonly import('../config/schema.js').LogFormat[];

/** --log-format, for the commands that run and log (start, attester, devnet). */
const logFormatOption = (): Option =>
  new Option('--log-format <format>', `log lines as JSON (for collectors) or pretty (readable in a terminal, coloured on a TTY unless NO_COLOR); default: $${LOG_FORMAT_ENV}, else the config's ops.logFormat, else json`).choices(LOG_FORMATS);

/** `-c`: every command that reads a config takes it, or else reads $ISORELAY_CONFIG (see the preAction hook). */
const configOption = (what = 'relayer config (YAML)'): Option => new Option('-c, --config <file>', `${what}; default: $${CONFIG_ENV}`);

const EXIT_CODES: Partial<Record<import('../errors/base.js').ErrorCode, number>> = { USAGE: 2, CREDIT_TIMEOUT: 3 };

const program = new Command()
  .name('isorelay')
  .description('Cross-chain isolated margin relayer: watches collateral locks and delivers the credits (LayerZero v2 and Wormhole); guarded liquidations and options settlement at reconciled prices.')
  .version(packageVersion())
  .showHelpAfterError();

program
  .command('devnet')
  .description('start three local chains with LayerZero v2 and our contracts, and run the relayer on them')
  .option('--demo', 'lock on both sources, wait for the credits and print a table; trade, liquidate and settle; open an iron condor on a market maker\'s quote and let the keeper settle it at expiry; exit non-zero unless every step checks out on chain')
  .option('--no-relayer', 'run the chains, contracts and guardian only: relayers run elsewhere (e.g. containers) with the configs written to --dir')
  .option('--dir <dir>', 'where to write manifest.json, relayer.yaml and the store (default: .devnet; with --demo: a temporary directory, removed when the demo passes)')
  .addOption(new Option('--port <port>', 'first RPC port (the chains take three in a row); 0 picks free ports').default(8545).argParser(Number))
  .addOption(new Option('--ops-port <port>', 'port of /healthz, /readyz, /metrics, /status').default(9464).argParser(Number))
  .option('--host <host>', 'where the chains and the guardian listen (0.0.0.0 in a container)', '127.0.0.1')
  .option('--advertise-host <host>', 'the host name others reach the devnet by, written into the URLs of the files in --dir (e.g. the compose service name)')
  .addOption(new Option('--demo-expiry <seconds>', 'with --demo: seconds until the iron condor expires').default(30).argParser((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 5 || n > 600) throw new InvalidArgumentError('a whole number of seconds from 5 to 600');
    return n;
  }))
  .addOption(new Option('--quote-port <port>', "the devnet market maker's port on 127.0.0.1 (POST /quote); 0 picks a free one").default(9480).argParser(Number))
  .addOption(new Option('--guardian-port <port>', "the devnet guardian's port; 0 picks a free one").default(0).argParser(Number))
  .addOption(new Option('--instances <n>', 'also write relayer-1.yaml … relayer-N.yaml for N relayer instances, each with a gas key of its own (at most 4); their ops servers listen on --host').default(0).argParser(Number))
  .option('--store-url-env <var>', "with --instances: the instances share a PostgreSQL store whose URL is in this environment variable (else each has its own SQLite file)")
  .addOption(logFormatOption())
  .action(async (opts: DevnetOptions) => (await import('./commands/devnet.js')).devnetCommand(opts));

program
  .command('start')
  .description('run the relayer daemon')
  .addOption(configOption())
  .addOption(logFormatOption())
  .action(async (opts: StartOptions) => (await import('./commands/start.js')).startCommand(opts));

program
  .command('attester')
  .description('run one price attester in its own process: it reconciles prices itself and signs only what agrees (the keeper asks over HTTP)')
  .addOption(configOption('config (YAML): the chains, markets and keeper chain it reads'))
  .requiredOption('--key-env <var>', 'environment variable holding this attester\'s private key')
  .option('--host <host>', 'where to listen (loopback by default; anything else needs --token-env)', '127.0.0.1')
  .addOption(new Option('--port <port>', 'port to listen on; 0 picks a free one').default(9470).argParser(Number))
  .option('--token-env <var>', 'environment variable holding the bearer token the keeper must send')
  .addOption(logFormatOption())
  .action(async (opts: AttesterCommandOptions) => (await import('./commands/attester.js')).attesterCommand(opts));

program
  .command('status')
  .description('per route: counts by status, oldest pending; chain heads and finalized heads')
  .addOption(configOption())
  .option('--json', 'print JSON')
  .action(async (opts: StatusOptions) => (await import('./commands/status.js')).statusCommand(opts));

program
  .command('prices <market>')
  .description("one market's feed on every configured chain, which count and why not, and the reconciled price (exit 1: no price)")
  .addOption(configOption())
  .option('--json', 'print JSON')
  .action(async (market: string, opts: PricesOptions) => (await import('./commands/prices.js')).pricesCommand(market, opts));

program
  .command('lock')
  .description("a trader's helper: lock collateral on a source vault for a position on the destination")
  .addOption(configOption('relayer config (YAML) naming the chains and the vault'))
  .requiredOption('--chain <name>', 'source chain')
  .requiredOption('--token <address>', 'collateral token on the source chain')
  .requiredOption('--amount <amount>', 'amount in whole tokens, e.g. 2500 or 0.5')
  .requiredOption('--position <id>', 'position id on the destination')
  .option('--to <chain>', 'destination chain (default: the route of the source chain)')
  .option('--key-env <name>', 'environment variable holding the trader key', 'ISORELAY_TRADER_KEY')
  .option('--wait', 'then wait until the destination engine credits the lock, and print the credit (exit 3 if it has not within --timeout)')
  .option('--timeout <seconds>', 'with --wait: how long to wait for the credit (default: 300)')
  .option('--json', 'print JSON (with --wait: the lock and its credit, once it is known)')
  .action(async (opts: LockOptions) => (await import('./commands/lock.js')).lockCommand(opts));

program
  .command('send-queued')
  .description("settlements queued on the engine (a refunded lock's RELEASE, a liquidation's): list them, or send one (--id) or every one waiting (--all), your key paying the messaging fees")
  .addOption(configOption())
  .option('--id <n>', 'send this settlement (its id, as `isorelay lock --wait` or the list shows it)')
  .option('--all', 'send every settlement still waiting (with --trader: that trader\'s)')
  .option('--trader <address>', "only this trader's settlements")
  .option('--on <chain>', 'the destination chain whose engine queued them (default: the only one)')
  .option('--key-env <name>', 'environment variable holding the key that sends and pays', 'ISORELAY_TRADER_KEY')
  .option('--relayer-key', "send with the config's relayer key (only while no isorelay runs with it: one sender per key)")
  .option('--json', 'print JSON')
  .action(async (opts: SendQueuedOptions) => (await import('./commands/sendQueued.js')).sendQueuedCommand(opts));

program
  .command('positions')
  .description("a trader's isolated positions on the destination engine, collateral per asset")
  .addOption(configOption())
  .option('--trader <address>', 'trader address (default: the address of the key in --key-env)')
  .option('--key-env <name>', 'without --trader: the environment variable holding the trader key', 'ISORELAY_TRADER_KEY')
  .option('--json', 'print JSON')
  .action(async (opts: PositionsOptions) => (await import('./commands/positions.js')).positionsCommand(opts));

const option = program.command('option').description("a trader's options strategy on a position: ask a market maker for a signed quote (quote), or open the strategy on it (open)");
for (const action of ['quote', 'open'] as const) {
  option
    .command(`${action} <positionId>`)
    .description(action === 'quote'
      ? 'ask the market maker for a quote and show the strategy, its margin and what happens at expiry; sends nothing'
      : 'ask the market maker for a quote, check it against the engine and your limit, and send openStrategy from the trader key')
    .addOption(configOption())
    .requiredOption('--market <name>', 'the market, e.g. ETH-USD')
    .requiredOption('--expiry <when>', 'a duration from now (30s, 10m, 2h, 7d, 1h30m) or a unix time')
    .addOption(new Option('--leg <side:kind:strike:size>', 'a leg, e.g. long:call:3400:2 or short:put:2800:2 (strike in USD, size in units); repeat for each leg (1 to 8)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .option('--quote-url <url>', "the market maker's RFQ endpoint (POST /quote); default: $ISORELAY_QUOTE_URL")
    .option('--max-premium <usd>', 'refuse a quote that costs more than this (a debit)')
    .option('--min-credit <usd>', 'refuse a quote that pays you less than this (a credit)')
    .option('--key-env <name>', 'environment variable holding the trader key', 'ISORELAY_TRADER_KEY')
    .option('--on <chain>', 'the destination chain whose engine holds the position (default: the only one)')
    .addOption(action === 'quote' ? new Option('--trader <address>', "quote for this trader (default: the trader key's address)") : new Option('--yes', 'open without asking (needs --max-premium or --min-credit)'))
    .option('--json', 'print JSON')
    .action(async (positionId: string, opts: OptionOptions) => (await import('./commands/option.js')).optionCommand(action, positionId, opts));
}

program
  .command('message <id>')
  .description('one message by any of its ids (message id, LayerZero guid, Wormhole VAA id, lockId, source tx): its history, transactions, the chains re-read, and what happens next')
  .addOption(configOption())
  .option('--json', 'print JSON')
  .action(async (id: string, opts: MessageOptions) => (await import('./commands/message.js')).messageCommand(id, opts));

const held = program.command('held').description('messages held for the operator (a SEIZE the source oracle disputes, a CREDIT above its route cap): list, release or reject one');
held
  .command('list')
  .description('held messages and why each was held')
  .addOption(configOption())
  .option('--json', 'print JSON')
  .action(async (opts: HeldOptions) => (await import('./commands/held.js')).heldListCommand(opts));
held
  .command('release <id>')
  .description('deliver a held message without asking the guard again')
  .addOption(configOption())
  .option('--reason <text>', 'why (kept with the message)')
  .action(async (id: string, opts: HeldOptions) => (await import('./commands/held.js')).heldReleaseCommand(id, opts));
held
  .command('reject <id>')
  .description('never deliver a held message (it becomes dead)')
  .addOption(configOption())
  .option('--reason <text>', 'why (kept with the message)')
  .action(async (id: string, opts: HeldOptions) => (await import('./commands/held.js')).heldRejectCommand(id, opts));

program
  .command('retry [id]')
  .description('run a waiting or failed message now instead of at its next attempt time; or every such message of --route')
  .addOption(configOption())
  .option('--route <route>', 'every waiting and failed message of this route')
  .option('--status <status>', 'with --route: only messages in this status (waiting or failed)')
  .option('--reason <text>', 'why (kept with the message)')
  .action(async (id: string | undefined, opts: HeldOptions & { route?: string; status?: string }) => (await import('./commands/held.js')).retryCommand(id, opts));
program
  .command('deny <id>')
  .description('never deliver a message (it becomes dead with your reason and is never retried)')
  .addOption(configOption())
  .requiredOption('--reason <text>', 'why (kept with the message, shown everywhere)')
  .action(async (id: string, opts: HeldOptions) => (await import('./commands/held.js')).denyCommand(id, opts));

const route = program.command('route').description('routes an incident halted (a reorg beyond finality) for every instance: list them, or resume one after investigating');
route
  .command('halted')
  .description('halted routes, since when and why')
  .addOption(configOption())
  .option('--json', 'print JSON')
  .action(async (opts: RouteOptions) => (await import('./commands/route.js')).routeHaltedCommand(opts));
route
  .command('resume <route>')
  .description('lift a halt: running relayers scan and deliver the route again')
  .addOption(configOption())
  .action(async (route: string, opts: RouteOptions) => (await import('./commands/route.js')).routeResumeCommand(route, opts));

program
  .command('doctor')
  .description('check RPCs, chain ids, contracts, roles and balances; say plainly what is wrong')
  .addOption(configOption())
  .option('--json', 'print JSON')
  .action(async (opts: DoctorOptions) => (await import('./commands/doctor.js')).doctorCommand(opts));

// Fills in -c from $ISORELAY_CONFIG for the command about to run, or stops with a usage error naming both.
program.hook('preAction', async (_program, command) => {
  if (!command.options.some((o) => o.attributeName() === 'config')) return;
  const { configFileFrom } = await import('../config/load.js');
  // commander types option values as any; -c takes one <file> argument, so it is a string when given.
  command.setOptionValue('config', configFileFrom(command.getOptionValue('config') as string | undefined, process.env));
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`${redactText(isIsorelayError(e) ? e.describe() : `error: ${errorSummary(e)}`)}\n`);
  // 2: the command line was wrong; 3: `lock --wait` locked but saw no credit in time (do not lock again); 1: anything else.
  process.exitCode = isIsorelayError(e) ? (EXIT_CODES[e.code] ?? 1) : 1;
}
