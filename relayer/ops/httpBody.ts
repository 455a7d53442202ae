// Reads an incoming HTTP request's body up to a limit: a client that sends more is cut off, not buffered.
import type { IncomingMessage } from 'node:http';

/** The body as bytes, or null when it is larger than `maxBytes` (the request is then destroyed). */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
