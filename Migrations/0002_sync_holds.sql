-- tenantsync schema version 2: runs held by the mass-deletion guard keep what
-- they would remove, and the delta links to commit with it, until an operator
-- confirms or discards them.

CREATE TABLE held_removals (
    run_id     INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    object_id  TEXT NOT NULL,
    PRIMARY KEY (run_id, kind, object_id)
) WITHOUT ROWID;

CREATE TABLE held_delta_links (
    run_id    INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    resource  TEXT NOT NULL CHECK (resource IN ('users', 'groups')),
    link      TEXT NOT NULL,
    PRIMARY KEY (run_id, resource)
) WITHOUT ROWID;

ALTER TABLE sync_runs ADD COLUMN note TEXT;
