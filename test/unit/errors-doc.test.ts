// Keeps docs/errors.md complete: one `## CODE` section per ErrorCode, and none for codes that do not exist.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^## (\S+)\s*$/gm)].map((m) => m[1] as string);
const codes: string[] = Object.values(ErrorCode);

describe('docs/errors.md', function () {
  it('has sections at all, one heading per line', function () {
    assert.ok(documented.length >= codes.length, `found ${documented.length} sections for ${codes.length} codes`);
  });

  it('documents every ErrorCode under a "## CODE" heading', function () {
    const missing = codes.filter((c) => !documented.includes(c));
    assert.deepEqual(missing, [], `add a "## CODE" section to docs/errors.md for: ${missing.join(', ')}`);
  });

  it('documents no code that does not exist', function () {
    const unknown = documented.filter((c) => !codes.includes(c));
    assert.deepEqual(unknown, [], `docs/errors.md has sections for codes not in ErrorCode: ${unknown.join(', ')}`);
  });

  it('documents each code once', function () {
    const repeated = documented.filter((c, i) => documented.indexOf(c) !== i);
    assert.deepEqual(repeated, []);
  });

  it('says for each code whether it is retried, as the RETRYABLE set decides', function () {
    const sections = doc.split(/^## /m).slice(1);
    const wrong = sections.flatMap((section) => {
      const code = section.split('\n')[0]?.trim() ?? '';
      if (!codes.includes(code)) return [];
      const claim = /\*\*Retried\.\*\* (Yes|No)/.exec(section)?.[1];
      const retryable = new IsorelayError(code as ErrorCode, 'probe').retryable; // code is checked to be an ErrorCode just above
      return claim === (retryable ? 'Yes' : 'No') ? [] : [`${code}: doc says ${claim ?? 'nothing'}, code says ${retryable ? 'Yes' : 'No'}`];
    });
    assert.deepEqual(wrong, []);
  });
});
