// The PostgreSQL connection string holds a password: it never reaches an error or a log, and one
// that would be parsed wrongly (a password with @, # or / not percent-encoded, which would put a
// piece of it where the host goes) is refused without repeating it.
import assert from 'node:assert/strict';
import { ErrorCode, IsorelayError } from '../../relayer/errors/base.js';
import { describeUrl, PgStore } from '../../relayer/store/postgres/pgStore.js';
import { checkPostgresUrl, postgresUrl } from '../../relayer/store/open.js';

describe('the database URL', function () {
  it('is named by host and database only', function () {
    assert.equal(describeUrl('postgres://relayer:s3cr%40t@db.internal:5432/isorelay'), 'postgres://relayer@db.internal:5432/isorelay');
  });

  it('refuses a password that is not percent-encoded, without repeating it', function () {
    for (const url of ['postgres://u:p@ss#w0rd@host/db', 'postgres://u:pa/ss@host/db', 'postgresql://u:a@b@host/db', 'postgres://u:x?y@host/db']) {
      assert.throws(() => checkPostgresUrl(url), (e: unknown) => e instanceof IsorelayError && e.code === ErrorCode.CONFIG_INVALID && !/w0rd|pa\/ss|a@b|x\?y|host/.test(e.message), url);
    }
    checkPostgresUrl('postgres://u:p%40ss%23w0rd@host:5432/db');
    checkPostgresUrl('postgres://host/db');
  });

  it('comes from the environment when the config names a variable, and says which one is empty', function () {
    assert.equal(postgresUrl({ postgres: { urlEnv: 'DB', poolSize: 1 } }, { DB: 'postgres://h/d' }), 'postgres://h/d');
    assert.throws(() => postgresUrl({ postgres: { urlEnv: 'DB', poolSize: 1 } }, {}), /environment variable DB is empty/);
  });

  it('an unreachable database is STORE_UNAVAILABLE, naming the host and never the password', async function () {
    this.timeout(15_000);
    const err = await PgStore.open({ url: 'postgres://relayer:hunter2-secret@127.0.0.1:1/isorelay', connectTimeoutMs: 2_000 }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof IsorelayError && err.code === ErrorCode.STORE_UNAVAILABLE, String(err));
    assert.match(err.message, /127\.0\.0\.1:1\/isorelay/);
    assert.ok(!err.message.includes('hunter2') && !JSON.stringify(err.details).includes('hunter2'));
    assert.equal(err.retryable, true);
  });
});
