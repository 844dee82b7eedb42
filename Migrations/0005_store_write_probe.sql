-- One row the daemon rewrites, in a committed transaction, to check that the database accepts writes
-- before it redeems a refresh token whose successor it must store (a full disk, a read-only file system
-- or an I/O error shows here first), and for the watchdog's health check.
CREATE TABLE store_write_probe (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at TEXT NOT NULL
);
