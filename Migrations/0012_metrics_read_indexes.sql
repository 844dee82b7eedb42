-- tenantsync schema version 12: what the metrics endpoint reads on every scrape, readable from indexes.
--
-- A scrape reads every grant's expiry, next and last refresh (40,000 grants at 10,000 tenants).
-- A token_sets row holds the sealed access and refresh tokens, about two kilobytes, so reading the
-- three times from the table reads about 80 MiB of pages per scrape; token_sets_schedule holds the
-- times alone (a few MiB), and the read names it, so it is always the one used.
--
-- A scrape also reads each tenant's newest successful run. sync_runs_by_tenant_newest finds the
-- newest run, but each run walked back past failures is a table row read; the partial index holds
-- only the successful runs, with their end, so the answer is one index seek per tenant.

CREATE INDEX token_sets_schedule ON token_sets(grant_id, expires_at, next_refresh_at, last_refresh_at);

CREATE INDEX sync_runs_succeeded_by_tenant ON sync_runs(tenant_id, id, finished_at) WHERE state = 'succeeded';
