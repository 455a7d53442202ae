// Fetches signed VAAs over HTTP in the shape of Wormholescan's / a guardian's public REST API
// (GET /v1/signed_vaa/{chain}/{emitter}/{sequence} → { vaaBytes: base64 }). "Not found" means
// not signed yet; anything else that is not a VAA is an outage, tried on every URL in turn.
import { ErrorCode, IsorelayError } from '../../errors/base.js';
import { redactUrl } from '../../errors/redact.js';
import { boundedText } from '../../chains/boundedText.js';

/**
 * The largest answer read. A VAA is a few kilobytes (19 guardian signatures and our 416-byte
 * payload); an API that streams more is broken or hostile, and is not read to the end.
 */
export const MAX_VAA_ANSWER_BYTES = 256 * 1024;

export interface VaaApiOptions {
  urls: readonly string[];
  timeoutMs: number;
}

export class VaaApi {
  private preferred = 0;

  constructor(private readonly o: VaaApiOptions) {}

  /** The signed VAA's bytes, or null while the guardians have not signed it. */
  async signedVaa(chainId: number, emitterHex: string, sequence: bigint): Promise<Uint8Array | null> {
    const problems: string[] = [];
    for (let i = 0; i < this.o.urls.length; i++) {
      const index = (this.preferred + i) % this.o.urls.length;
      const base = (this.o.urls[index] as string).replace(/\/+$/, '');
      try {
        const vaa = await this.fetchOne(`${base}/v1/signed_vaa/${chainId}/${emitterHex}/${sequence}`);
        this.preferred = index;
        return vaa;
      } catch (e) {
        problems.push(`${redactUrl(base)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    throw new IsorelayError(ErrorCode.GUARDIAN_API_UNAVAILABLE, `no signed-VAA API answered for ${chainId}/${emitterHex}/${sequence}: ${problems.join('; ')}`, {
      guidance: ['Check wormhole.apiUrls; the message waits and is delivered once the API is back.'],
    });
  }

  private async fetchOne(url: string): Promise<Uint8Array | null> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.o.timeoutMs);
    try {
      const res = await fetch(url, { signal: controller.signal });
      const text = await boundedText(res, MAX_VAA_ANSWER_BYTES);
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error('not JSON');
      }
      const b64 = (body as { vaaBytes?: unknown }).vaaBytes;
      if (typeof b64 !== 'string' || b64.length === 0) throw new Error('no vaaBytes in the answer');
      return new Uint8Array(Buffer.from(b64, 'base64'));
    } catch (e) {
      if (controller.signal.aborted) throw new Error(`no answer within ${this.o.timeoutMs} ms`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}
