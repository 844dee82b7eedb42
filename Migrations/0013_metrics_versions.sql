-- tenantsync schema version 13: each tenant counts the changes to what its metric series show.
--
-- The metrics endpoint keeps every tenant's series as text and, on a scrape, reads again only the
-- tenants whose count moved since (at 10,000 tenants a full read is 80,000 rows and 240,000 lines;
-- a scrape of a quiet fleet then reads the 10,000 counts). The triggers below keep the count, so no
-- write path can forget it: a tenant's domain or scope, its accounts' state and secret expiry, its
-- grants' state, their tokens' schedule, its runs' start and end.
--
-- The directory's size (tenantsync_directory_users) has no trigger: a sync inserts one row per user,
-- and a trigger would update the tenant's row once per user. The store's one write path of the
-- directory (SQLiteStore.apply, used by every sync batch and by a confirmed hold) counts once per batch.
--
-- Rows deleted by a cascade fire their triggers after their parent is gone; the parent's own trigger
-- (or the tenant's absence) has then counted the change.

ALTER TABLE tenants ADD COLUMN metrics_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER tenants_count_metrics_change AFTER UPDATE OF domain, sync_scope, last_run_started_at ON tenants
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER service_accounts_count_metrics_insert AFTER INSERT ON service_accounts
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER service_accounts_count_metrics_update AFTER UPDATE OF tenant_id, service, state, client_secret_expires_at ON service_accounts
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER service_accounts_count_metrics_delete AFTER DELETE ON service_accounts
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER grants_count_metrics_insert AFTER INSERT ON grants
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1
    WHERE id = (SELECT a.tenant_id FROM service_accounts a WHERE a.id = NEW.account_id);
END;
CREATE TRIGGER grants_count_metrics_update AFTER UPDATE OF account_id, name, state ON grants
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1
    WHERE id IN (SELECT a.tenant_id FROM service_accounts a WHERE a.id IN (OLD.account_id, NEW.account_id));
END;
CREATE TRIGGER grants_count_metrics_delete AFTER DELETE ON grants
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1
    WHERE id = (SELECT a.tenant_id FROM service_accounts a WHERE a.id = OLD.account_id);
END;

CREATE TRIGGER token_sets_count_metrics_insert AFTER INSERT ON token_sets
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1
    WHERE id = (SELECT a.tenant_id FROM grants g JOIN service_accounts a ON a.id = g.account_id WHERE g.id = NEW.grant_id);
END;
CREATE TRIGGER token_sets_count_metrics_update AFTER UPDATE OF grant_id, expires_at, next_refresh_at, last_refresh_at ON token_sets
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1
    WHERE id IN (SELECT a.tenant_id FROM grants g JOIN service_accounts a ON a.id = g.account_id WHERE g.id IN (OLD.grant_id, NEW.grant_id));
END;
CREATE TRIGGER token_sets_count_metrics_delete AFTER DELETE ON token_sets
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1
    WHERE id = (SELECT a.tenant_id FROM grants g JOIN service_accounts a ON a.id = g.account_id WHERE g.id = OLD.grant_id);
END;

CREATE TRIGGER sync_runs_count_metrics_insert AFTER INSERT ON sync_runs
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER sync_runs_count_metrics_update AFTER UPDATE OF tenant_id, state, finished_at ON sync_runs
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER sync_runs_count_metrics_delete AFTER DELETE ON sync_runs
BEGIN
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = OLD.tenant_id;
END;
