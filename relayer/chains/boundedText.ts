// Reads an HTTP answer's body up to a limit and no further: a broken or hostile server that
// streams forever costs a bounded amount of memory (the RPC client has its own cap in rpc.ts).

/** Reads a response body up to `limit` bytes; beyond that it stops reading and throws. */
export async function boundedText(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw new Error(`answer of ${declared} bytes, above the ${limit}-byte limit`);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`answer above the ${limit}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

