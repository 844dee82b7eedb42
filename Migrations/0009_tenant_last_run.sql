-- tenantsync schema version 10: each tenant keeps when its newest sync run started.
--
-- The daily scheduler plans from every scheduled tenant's newest run start, once a minute,
-- for every status line and for every `tenantsyncctl status`. Read from sync_runs, that is one
-- index seek per tenant into an index of every run kept (300,000 runs at 10,000 tenants, about
-- 20 MiB of index pages read per planning pass); kept here, the plan reads the tenants alone.
--
-- A trigger keeps it, so no write path can forget it: runs are only ever inserted with their
-- start, their start never changes, and they are deleted only with their tenant.

ALTER TABLE tenants ADD COLUMN last_run_started_at TEXT;

UPDATE tenants SET last_run_started_at = (SELECT max(r.started_at) FROM sync_runs r WHERE r.tenant_id = tenants.id);

CREATE TRIGGER sync_runs_keep_tenant_last_start AFTER INSERT ON sync_runs
BEGIN
    UPDATE tenants SET last_run_started_at = NEW.started_at
    WHERE id = NEW.tenant_id AND (last_run_started_at IS NULL OR last_run_started_at < NEW.started_at);
END;
