-- tenantsync schema version 6: indexes for the set-based control queries.
--
-- `status`, `accounts`, `account ID`, `alerts` and the daily scheduler each read
-- a bounded number of queries whatever the number of tenants; these indexes keep
-- each of those queries from scanning whole tables at 10,000 tenants.

-- A tenant's newest run (max(id) per tenant) for the accounts list.
CREATE INDEX sync_runs_by_tenant_newest ON sync_runs(tenant_id, id);

-- Held runs of every tenant, for `status`.
CREATE INDEX sync_runs_held ON sync_runs(tenant_id) WHERE state = 'held';

-- Open incidents of an account: counted per account in the accounts list.
CREATE INDEX incidents_open_by_account ON incidents(account_id) WHERE resolved_at IS NULL;

-- Accounts filtered by state (`accounts --state token-invalid`), in id order for paging.
CREATE INDEX service_accounts_by_state ON service_accounts(state, id);

-- Pending deliveries counted per channel with the oldest, for `status`.
CREATE INDEX alert_deliveries_pending_by_channel ON alert_deliveries(channel, next_attempt_at) WHERE state = 'pending';

-- Unacknowledged alerts, newest first and counted, for `status` and `alerts`.
CREATE INDEX alerts_unacknowledged ON alerts(id) WHERE acknowledged_at IS NULL;

-- Alerts of one tenant (`alerts --tenant`), newest first.
CREATE INDEX alerts_by_tenant ON alerts(tenant_id, id);

-- Alerts of one account (`alerts --service` joins through the account).
CREATE INDEX alerts_by_account ON alerts(account_id, id);
