-- tenantsync schema version 9: an index for the metrics endpoint.
--
-- `tenantsync_sync_last_success_timestamp_seconds` reads each tenant's newest successful
-- run in one query per scrape; this index makes that a lookup per tenant instead of a scan
-- of every run ever recorded.

CREATE INDEX sync_runs_succeeded_by_tenant ON sync_runs(tenant_id, finished_at) WHERE state = 'succeeded';
