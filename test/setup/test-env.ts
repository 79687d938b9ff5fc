/** Every integration spec talks to the real local Postgres and Redis, in a database and key prefix of its own. */
process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/sealpost_test';
process.env.TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';
