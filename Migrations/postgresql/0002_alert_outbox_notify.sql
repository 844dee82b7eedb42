-- tenantsync PostgreSQL schema version 2: every statement that stores alerts
-- notifies the channel tenantsync_alert_outbox, so that the alert dispatcher of
-- any daemon sharing the database wakes up (PostgreSQLStore+OutboxListener.swift
-- listens). NOTIFY inside a transaction is delivered when it commits, and not at
-- all when it rolls back (PostgreSQL documentation, "NOTIFY"), so a listener
-- never wakes for an alert it cannot read yet.
CREATE FUNCTION alerts_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tenantsync_alert_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER alerts_notify_outbox AFTER INSERT ON alerts
    FOR EACH STATEMENT EXECUTE FUNCTION alerts_notify_outbox();
