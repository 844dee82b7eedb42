-- tenantsync PostgreSQL schema version 5: each tenant counts the changes to what its metric series show,
-- kept by triggers, so that the metrics endpoint reads again only the tenants whose count moved since
-- its last read, whichever node wrote. SQLite's 0013_metrics_versions.sql says what counts and why the
-- directory's size is counted by the store's directory write (once per batch), not by a trigger.

ALTER TABLE tenants ADD COLUMN metrics_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION count_tenant_metrics_change(tenant text) RETURNS void LANGUAGE sql AS $$
    UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = tenant;
$$;

-- The tenant's own row counts its change before it is written (no second update of the row).
CREATE FUNCTION tenants_count_metrics_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.metrics_version := OLD.metrics_version + 1;
    RETURN NEW;
END;
$$;
CREATE TRIGGER tenants_count_metrics_change BEFORE UPDATE OF domain, sync_scope, last_run_started_at ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_count_metrics_change();

-- Rows that name their tenant.
CREATE FUNCTION tenant_row_counts_metrics_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM count_tenant_metrics_change(OLD.tenant_id); END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
        PERFORM count_tenant_metrics_change(NEW.tenant_id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER service_accounts_count_metrics_change
    AFTER INSERT OR UPDATE OF tenant_id, service, state, client_secret_expires_at OR DELETE ON service_accounts
    FOR EACH ROW EXECUTE FUNCTION tenant_row_counts_metrics_change();
CREATE TRIGGER sync_runs_count_metrics_change
    AFTER INSERT OR UPDATE OF tenant_id, state, finished_at OR DELETE ON sync_runs
    FOR EACH ROW EXECUTE FUNCTION tenant_row_counts_metrics_change();

-- Grants name their account.
CREATE FUNCTION grants_count_metrics_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM count_tenant_metrics_change(a.tenant_id) FROM service_accounts a WHERE a.id = OLD.account_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.account_id IS DISTINCT FROM OLD.account_id) THEN
        PERFORM count_tenant_metrics_change(a.tenant_id) FROM service_accounts a WHERE a.id = NEW.account_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER grants_count_metrics_change
    AFTER INSERT OR UPDATE OF account_id, name, state OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION grants_count_metrics_change();

-- Token sets name their grant.
CREATE FUNCTION token_sets_count_metrics_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM count_tenant_metrics_change(a.tenant_id)
        FROM grants g JOIN service_accounts a ON a.id = g.account_id WHERE g.id = OLD.grant_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.grant_id IS DISTINCT FROM OLD.grant_id) THEN
        PERFORM count_tenant_metrics_change(a.tenant_id)
        FROM grants g JOIN service_accounts a ON a.id = g.account_id WHERE g.id = NEW.grant_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER token_sets_count_metrics_change
    AFTER INSERT OR UPDATE OF grant_id, expires_at, next_refresh_at, last_refresh_at OR DELETE ON token_sets
    FOR EACH ROW EXECUTE FUNCTION token_sets_count_metrics_change();
