"""What both Python peers share: the emulator's demo app, the SQLite schema they write, and their
own peak-memory reading. One copy, so the two peers cannot drift apart in what they store."""

CLIENT_ID = "5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b"
CLIENT_SECRET = "emulator-client-secret"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, upn TEXT NOT NULL, display_name TEXT, mail TEXT, account_enabled INTEGER);
CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, display_name TEXT, mail TEXT);
CREATE TABLE IF NOT EXISTS members (group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_type TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id));
CREATE INDEX IF NOT EXISTS members_by_member ON members (member_id);
CREATE TABLE IF NOT EXISTS delta_links (resource TEXT PRIMARY KEY, link TEXT NOT NULL);
"""
UPSERT_USER = ("INSERT INTO users (id, upn, display_name, mail, account_enabled) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT(id) DO UPDATE SET upn = excluded.upn, display_name = excluded.display_name, "
               "mail = excluded.mail, account_enabled = excluded.account_enabled")
UPSERT_GROUP = ("INSERT INTO groups (id, display_name, mail) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name, mail = excluded.mail")


def peak_rss_kib():
    """VmHWM of this process: its own peak, fresh since exec (a parent's wait4 ru_maxrss is not)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def member_type(odata_type):
    return {"#microsoft.graph.user": "user", "#microsoft.graph.group": "group"}.get(odata_type, "other")
