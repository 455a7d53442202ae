// Encoders for the hot path. ethers v6 recomputes a fragment's selector (a keccak) on every
// encodeFunctionData/parseError; these compute it once per function or error.
import { AbiCoder, type Interface, type Result } from 'ethers';

const coder = AbiCoder.defaultAbiCoder();

export interface AbiFunction {
  encode(args: readonly unknown[]): string;
  decode(data: string): Result;
}

export function abiFunction(iface: Interface, name: string): AbiFunction {
  const f = iface.getFunction(name);
  if (f === null) throw new Error(`no function ${name} in the ABI`);
  const selector = f.selector;
  return {
    encode: (args) => selector + coder.encode(f.inputs, args).slice(2),
    decode: (data) => coder.decode(f.outputs, data),
  };
}

export interface DecodedError {
  name: string;
  args: Result;
}

/** A decoder of custom errors from several ABIs, keyed by selector once. */
export function errorDecoder(ifaces: readonly Interface[]): (data: string) => DecodedError | null {
  const bySelector = new Map<string, { name: string; decode: (data: string) => Result }>();
  for (const iface of ifaces) {
    iface.forEachError((e) => {
      if (!bySelector.has(e.selector)) bySelector.set(e.selector, { name: e.name, decode: (d) => coder.decode(e.inputs, d) });
    });
  }
  return (data) => {
    const known = bySelector.get(data.slice(0, 10).toLowerCase());
    if (known === undefined) return null;
    try {
      return { name: known.name, args: known.decode('0x' + data.slice(10)) };
    } catch {
      return null;
    }
  };
}
