-- tenantsync schema version 7: a directory user remembers when a sync first
-- stored it, so an operator can ask since when a user is protected.
-- `synced_at` is not that: it moves whenever the user changes.
--
-- Rows stored before this version get their last change as the best known
-- answer (the user has been protected at least since then).

ALTER TABLE directory_users ADD COLUMN first_synced_at TEXT;
UPDATE directory_users SET first_synced_at = synced_at;
