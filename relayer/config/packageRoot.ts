// Where the installed package lives: the folder of isorelay's package.json, found by walking up
// from this module, so that contracts-abi/ and the version are found from relayer/ (tsx) and
// from dist/relayer/ (compiled) alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'isorelay';

let found: { root: string; version: string } | undefined;

function findPackage(): { root: string; version: string } {
  if (found !== undefined) return found;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      // Checked just below: only our own package.json counts.
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') {
        found = { root: dir, version: pkg.version };
        return found;
      }
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of ${PACKAGE_NAME} above ${start}`);
  }
}

/** The package's root folder (holds package.json, contracts-abi/, node_modules/). */
export function packageRoot(): string {
  return findPackage().root;
}

/** The version in the package's package.json. */
export function packageVersion(): string {
  return findPackage().version;
}
