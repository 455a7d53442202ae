#!/usr/bin/env node
// Entry point of the `isorelay` command: runs the compiled CLI in dist/ (`npm run build`, which
// `npm ci` runs through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/relayer/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`isorelay is not built: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
await import(main.href);
