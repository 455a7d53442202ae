// Compiles contracts/**/*.sol with the solc npm package and writes contracts-abi/<Name>.json
// (ABI + bytecode) for every deployable contract of our own sources. Deterministic output:
// contracts-abi/ is committed and a unit test checks it is not stale.
import { readFileSync, readdirSync, writeFileSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ContractArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  /** Not written to contracts-abi/: the runtime code's size in bytes (EIP-170 caps it at 24,576). */
  deployedSize?: number;
  /** Not written: solc's storage layout (slot, offset, declaring contract of each variable). */
  storage?: StorageEntry[];
}

export interface StorageEntry {
  /** The declaration's AST id: the same variable in every contract compiled together. */
  astId: number;
  label: string;
  slot: string;
  offset: number;
  type: string;
  contract: string;
}

/**
 * Contracts that run other contracts' functions by delegatecall on their own storage: their
 * artifact's ABI also lists the modules' functions, so that callers see one contract.
 */
export const COMPOSED: Readonly<Record<string, readonly string[]>> = {
  IsolatedMarginEngine: ['EngineTrading', 'EngineSettlement', 'EngineLiquidation', 'EngineOptions'],
};

/** Functions a module has for the engine only (never routed). */
const MODULE_ONLY = new Set(['selectors']);

interface AbiEntry {
  type: string;
  name?: string;
  inputs?: { type: string }[];
}

function abiKey(e: AbiEntry): string {
  return `${e.type}:${e.name ?? ''}(${(e.inputs ?? []).map((i) => i.type).join(',')})`;
}

/** The composed contract's ABI: its own entries, then each module's that it lacks. */
function composeAbi(own: unknown[], modules: unknown[][]): unknown[] {
  const seen = new Set((own as AbiEntry[]).map(abiKey));
  const out = [...own];
  for (const abi of modules) {
    for (const e of abi as AbiEntry[]) {
      if (e.type === 'constructor' || (e.type === 'function' && MODULE_ONLY.has(e.name ?? ''))) continue;
      const key = abiKey(e);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(e);
    }
  }
  return out;
}

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const contractsDir = join(repoRoot, 'contracts');
export const abiDir = join(repoRoot, 'contracts-abi');

const IMPORT_PREFIXES = ['@layerzerolabs/', '@openzeppelin/'];

/** The subset of solc-js we use (the package ships no types). */
interface SolcJs {
  compile(input: string, callbacks: { import: (path: string) => { contents: string } | { error: string } }): string;
  version(): string;
}

interface SolcError {
  severity: 'error' | 'warning' | 'info';
  formattedMessage?: string;
  message: string;
}

interface AstNode {
  nodeType: string;
  name?: string;
  contractKind?: 'contract' | 'interface' | 'library';
  abstract?: boolean;
  nodes?: AstNode[];
}

interface SolcOutput {
  errors?: SolcError[];
  sources?: Record<string, { ast: AstNode }>;
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode?: { object: string } }; storageLayout?: { storage: StorageEntry[] } }>>;
}

export class ContractCompilationError extends Error {
  constructor(readonly diagnostics: string[]) {
    super(`solc reported ${diagnostics.length} error(s):\n${diagnostics.join('\n')}`);
    this.name = 'ContractCompilationError';
  }
}

/** Source unit names are repo-relative POSIX paths (contracts/Foo.sol), sorted. */
function listSources(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.sol')) found.push(relative(repoRoot, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return found.sort();
}

function resolveImport(path: string): { contents: string } | { error: string } {
  if (!IMPORT_PREFIXES.some((prefix) => path.startsWith(prefix))) {
    return { error: `import ${path} is outside contracts/ and not from ${IMPORT_PREFIXES.join(' or ')}` };
  }
  try {
    return { contents: readFileSync(join(repoRoot, 'node_modules', path), 'utf8') };
  } catch (cause) {
    return { error: `cannot read node_modules/${path}: ${(cause as Error).message}` };
  }
}

function loadSolc(): SolcJs {
  // solc-js is CommonJS without type declarations; SolcJs above is its contract.
  return createRequire(import.meta.url)('solc') as SolcJs;
}

/** Compiles every contract of contracts/ in memory; throws ContractCompilationError on errors. */
export function compileContracts(
  onWarning: (message: string) => void = () => {},
): Record<string, ContractArtifact> {
  const sourceNames = listSources(contractsDir);
  const sources: Record<string, { content: string }> = {};
  for (const name of sourceNames) sources[name] = { content: readFileSync(join(repoRoot, name), 'utf8') };

  const outputSelection: Record<string, Record<string, string[]>> = { '*': { '': ['ast'] } };
  for (const name of sourceNames) outputSelection[name] = { '': ['ast'], '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'] };

  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      viaIR: false,
      evmVersion: 'cancun',
      // No metadata hash or CBOR trailer: bytecode does not depend on paths or comments.
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection,
    },
  };

  const output = JSON.parse(loadSolc().compile(JSON.stringify(input), { import: resolveImport })) as SolcOutput;

  const errors: string[] = [];
  for (const diagnostic of output.errors ?? []) {
    const text = (diagnostic.formattedMessage ?? diagnostic.message).trimEnd();
    if (diagnostic.severity === 'error') errors.push(text);
    else onWarning(text);
  }
  if (errors.length > 0) throw new ContractCompilationError(errors);

  const artifacts: Record<string, ContractArtifact> = {};
  for (const sourceName of sourceNames) {
    const ast = output.sources?.[sourceName]?.ast;
    if (ast === undefined) throw new ContractCompilationError([`solc returned no AST for ${sourceName}`]);
    for (const node of ast.nodes ?? []) {
      // Only deployable contracts: no interfaces, libraries or abstract contracts.
      if (node.nodeType !== 'ContractDefinition' || node.contractKind !== 'contract' || node.abstract === true) continue;
      const contractName = node.name ?? '';
      const compiled = output.contracts?.[sourceName]?.[contractName];
      if (compiled === undefined) throw new ContractCompilationError([`solc returned no output for ${contractName}`]);
      if (artifacts[contractName] !== undefined) {
        throw new ContractCompilationError([`contract name ${contractName} is defined twice; artifact names must be unique`]);
      }
      artifacts[contractName] = {
        contractName,
        abi: compiled.abi,
        bytecode: `0x${compiled.evm.bytecode.object}`,
        deployedSize: (compiled.evm.deployedBytecode?.object.length ?? 0) / 2,
        storage: compiled.storageLayout?.storage ?? [],
      };
    }
  }
  for (const [name, modules] of Object.entries(COMPOSED)) {
    const artifact = artifacts[name];
    if (artifact === undefined) continue;
    artifact.abi = composeAbi(artifact.abi, modules.map((m) => {
      const module = artifacts[m];
      if (module === undefined) throw new ContractCompilationError([`${name} is composed of ${m}, which was not compiled`]);
      return module.abi;
    }));
  }
  return Object.fromEntries(Object.entries(artifacts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The exact bytes written to contracts-abi/<contractName>.json. */
export function renderArtifact(artifact: ContractArtifact): string {
  const { contractName, abi, bytecode } = artifact;
  return `${JSON.stringify({ contractName, abi, bytecode }, null, 2)}\n`;
}

export function artifactFileName(contractName: string): string {
  return `${contractName}.json`;
}

function writeArtifacts(artifacts: Record<string, ContractArtifact>): void {
  mkdirSync(abiDir, { recursive: true });
  const expected = new Set(Object.keys(artifacts).map(artifactFileName));
  // Remove artifacts of contracts that no longer exist, so the folder mirrors the sources.
  for (const file of readdirSync(abiDir)) {
    if (file.endsWith('.json') && !expected.has(file)) rmSync(join(abiDir, file));
  }
  for (const artifact of Object.values(artifacts)) {
    writeFileSync(join(abiDir, artifactFileName(artifact.contractName)), renderArtifact(artifact));
  }
}

function main(): void {
  const started = performance.now();
  try {
    const artifacts = compileContracts((warning) => console.warn(`solc warning:\n${warning}\n`));
    writeArtifacts(artifacts);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`wrote ${Object.keys(artifacts).length} artifacts to contracts-abi/ in ${seconds}s`);
  } catch (error) {
    if (error instanceof ContractCompilationError) {
      console.error(error.message);
    } else {
      console.error(error);
    }
    process.exit(1);
  }
}

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) main();
