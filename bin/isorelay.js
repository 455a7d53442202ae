#!/usr/bin/env node
// Entry point of the `isorelay` command: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../relayer/cli/main.ts');
