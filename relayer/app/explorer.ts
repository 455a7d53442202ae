// The message explorer (`isorelay message ID`, GET /messages/:id): one message found by any of its
// ids, its whole history (every move, why, the transaction, the instance), the transactions signed
// for it, the chains' own answer re-read now (the source transaction; on the destination, whether
// the engine or vault has executed it), and what happens next and when.
import { Interface } from 'ethers';
import type { ChainClient } from '../chains/client.js';
import { ourArtifact } from '../chains/contractsAbi.js';
import type { Config } from '../config/schema.js';
import { errorSummary } from '../errors/base.js';
import { redactText } from '../errors/redact.js';
import type { MessageEvent, MessageRow, Store, TxRecord } from '../store/store.js';
import { formatAge, formatTable } from './statusReport.js';
import { stuckOf, type StuckMessage } from './stuck.js';

const engineIface = new Interface(ourArtifact('IsolatedMarginEngine').abi);
const vaultIface = new Interface(ourArtifact('CollateralVault').abi);

export interface OnChainTruth {
  /** The source transaction as the source chain has it now. */
  source: { found: boolean; block: string | null; ok: boolean | null } | { error: string };
  /** Whether the destination executed it (engine `processed(lockId)` for a CREDIT, vault `executed(messageId)` for a RELEASE/SEIZE); null when not ours to ask. */
  destination: { executed: boolean | null; contract: string | null } | { error: string };
}

export interface MessageReport {
  row: Omit<MessageRow, 'payload' | 'lease'>;
  history: MessageEvent[];
  transactions: Omit<TxRecord, 'raw'>[];
  onChain?: OnChainTruth;
  /** Older than its route's expected delivery time and not final: why (with a config only). */
  stuck?: StuckMessage | null;
  next: string;
}

/** What happens next to a message in this status, and when. */
export function nextStep(row: MessageRow, now: number): string {
  switch (row.status) {
    case 'observed':
      return `waits for block ${row.srcBlock} of ${row.srcChain} to be final, then it is re-read and finalized`;
    case 'finalized':
      return `is verified from ${row.srcChain}'s providers and delivered to ${row.dstChain} by the next free instance`;
    case 'verified':
      return `is verified on ${row.dstChain}; its execution is next`;
    case 'submitted':
      return `its transaction ${row.dstTx ?? '?'} is confirmed on ${row.dstChain}, then it is delivered`;
    case 'waiting': {
      const inMs = row.nextAttemptAt - now;
      return `waits (${row.reasonCode ?? '?'}: ${row.lastError ?? '?'}); looked at again ${inMs > 0 ? `in ${formatAge(inMs)}` : 'now'}, from ${row.resumeStatus ?? '?'}`;
    }
    case 'failed': {
      const inMs = row.nextAttemptAt - now;
      return `tried again ${inMs > 0 ? `in ${formatAge(inMs)}` : 'now'} (attempt ${row.attempts + 1}), from ${row.resumeStatus ?? '?'}; last: ${row.reasonCode ?? '?'}: ${row.lastError ?? '?'}`;
    }
    case 'held':
      return `waits for an operator (held: ${row.holdCode ?? '?'}): isorelay held release ${row.id} | isorelay held reject ${row.id}`;
    case 'delivered':
      return 'nothing: delivered';
    case 'dead':
      return `nothing: dead (${row.lastError ?? '?'})`;
    case 'orphaned':
      return 'nothing: its source block was reorged out (if it comes back in another block, it is observed again)';
  }
}

async function readChains(config: Config, row: MessageRow, client: (chain: string) => ChainClient): Promise<OnChainTruth> {
  let source: OnChainTruth['source'];
  try {
    const [receipt] = await client(row.srcChain).receipts([row.srcTx]);
    source = receipt === null || receipt === undefined ? { found: false, block: null, ok: null } : { found: true, block: receipt.blockNumber.toString(), ok: receipt.status === 1 };
  } catch (e) {
    source = { error: redactText(errorSummary(e)) };
  }
  let destination: OnChainTruth['destination'] = { executed: null, contract: null };
  const dst = config.chains[row.dstChain];
  try {
    if (row.messageId !== null && row.kind === 'CREDIT' && dst?.engine !== undefined) {
      const raw = await client(row.dstChain).call(dst.engine, engineIface.encodeFunctionData('processed', [row.messageId]));
      destination = { executed: engineIface.decodeFunctionResult('processed', raw)[0] as boolean, contract: dst.engine };
    } else if (row.messageId !== null && (row.kind === 'RELEASE' || row.kind === 'SEIZE') && dst?.vault !== undefined) {
      const raw = await client(row.dstChain).call(dst.vault, vaultIface.encodeFunctionData('executed', [row.messageId]));
      destination = { executed: vaultIface.decodeFunctionResult('executed', raw)[0] as boolean, contract: dst.vault };
    }
  } catch (e) {
    destination = { error: redactText(errorSummary(e)) };
  }
  return { source, destination };
}

/** Every message `key` names (usually one), explained; with `client`, the chains are read too. */
export async function explainMessage(store: Store, key: string, o: { config?: Config; client?: (chain: string) => ChainClient; now?: number } = {}): Promise<MessageReport[]> {
  const rows = await store.findMessages(key.trim());
  const now = o.now ?? Date.now();
  return Promise.all(rows.map(async (row) => {
    const { payload: _p, lease: _l, ...summary } = row;
    const [history, txs] = await Promise.all([store.history(row.id), store.txsFor(row.id)]);
    return {
      row: summary,
      history,
      transactions: txs.map(({ raw: _r, ...t }) => t),
      ...(o.config === undefined || o.client === undefined ? {} : { onChain: await readChains(o.config, row, o.client) }),
      ...(o.config === undefined ? {} : { stuck: stuckOf(o.config, row, now) }),
      next: nextStep(row, now),
    };
  }));
}

const at = (ms: number) => new Date(ms).toISOString();

export function formatMessageReport(r: MessageReport): string {
  const m = r.row;
  const lines = [
    `${m.id}  ${m.kind ?? '?'} ${m.route} (${m.transport})`,
    `  ${m.kind === 'CREDIT' ? 'lockId' : 'message id'} ${m.messageId ?? '-'}; ${m.transport === 'wormhole' ? 'VAA id' : 'guid'} ${m.transportId}; source ${m.srcChain} tx ${m.srcTx} block ${m.srcBlock}`,
    `  status ${m.status}${m.reasonCode === null ? (m.holdCode === null ? '' : ` (${m.holdCode})`) : ` (${m.reasonCode})`}, ${m.attempts} attempt(s)${m.lastError === null ? '' : `; last: ${m.lastError}`}`,
    `  observed ${at(m.observedAt)}${m.deliveredAt === null ? '' : `, delivered ${at(m.deliveredAt)} (${formatAge(m.deliveredAt - m.observedAt)} later)`}`,
    '',
    'history',
    formatTable(['at', 'move', 'code', 'why', 'tx', 'by'], r.history.map((e) => [at(e.at), `${e.from ?? '∅'} → ${e.to}`, e.code ?? '', e.reason ?? '', e.tx ?? '', e.by ?? ''])),
  ];
  if (r.stuck !== undefined && r.stuck !== null)
    lines.splice(4, 0, `  STUCK (${r.stuck.reason}): ${formatAge(r.stuck.ageMs)} old, its route expects delivery within ${formatAge(r.stuck.expectedMs)}`);
  if (r.transactions.length > 0)
    lines.push('', 'transactions', formatTable(['hash', 'chain', 'nonce', 'purpose', 'status'], r.transactions.map((t) => [t.hash, t.chain, String(t.nonce), t.purpose, t.status])));
  if (r.onChain !== undefined) {
    const s = r.onChain.source;
    const d = r.onChain.destination;
    lines.push('', 'on chain now');
    lines.push(`  source: ${'error' in s ? `cannot tell (${s.error})` : s.found ? `in block ${s.block ?? '?'}, ${s.ok === true ? 'succeeded' : 'failed'}` : 'no such transaction'}`);
    lines.push(`  destination: ${'error' in d ? `cannot tell (${d.error})` : d.executed === null ? 'not a message of ours to ask about' : d.executed ? `executed (${d.contract ?? '?'})` : 'not executed yet'}`);
  }
  lines.push('', `next: ${r.next}`);
  return lines.join('\n');
}
