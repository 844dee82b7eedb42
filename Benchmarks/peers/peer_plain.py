"""Peer B: the directory sync an operator would write with a plain HTTP client and sqlite3, no SDK.

Choices, and why they are fair to this peer:
- HTTP client: the standard library's http.client on persistent (keep-alive) connections. It is the
  fastest plain client Python has without extra packages: requests and httpx add per-request
  overhead (hooks, header models, URL parsing) on top of the same socket I/O and would only slow it.
- JSON: the standard json module (C accelerated).
- The same job as tenantsync: the delta positions first ($deltatoken=latest), then /users and /groups
  with $select of the kept fields and $top=999, then each group's direct members (/members?$select=id,
  the same pages tenantsync reads; transitiveMembers would ask the server for more) with 8 listings
  at once (tenantsync's default concurrency) on 8 threads with a connection each, because a competent
  script overlaps the round trips.
- SQLite in WAL mode with synchronous=NORMAL (tenantsync's settings), one transaction per page of users or groups and one per
  200 groups of members; executemany with prepared upserts.
- Delta: follow the stored delta links (/users/delta, /groups/delta with members@delta), apply
  upserts, removals and membership changes in one transaction, store the new links.

Prints one JSON line: seconds (the sync itself, after interpreter start-up), users, groups, memberships.
"""
import http.client
import json
import sqlite3
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from peer_common import CLIENT_ID, CLIENT_SECRET, SCHEMA, UPSERT_GROUP, UPSERT_USER, member_type, peak_rss_kib

USER_FIELDS = "id,userPrincipalName,displayName,mail,accountEnabled"
GROUP_FIELDS = "id,displayName,mail"


class Graph:
    """GETs on one keep-alive connection per thread."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        parsed = urllib.parse.urlparse(self.base)
        self.host, self.port = parsed.hostname, parsed.port
        self.local = threading.local()
        self.token = None

    def connection(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.local.conn = conn
        return conn

    def request(self, method, path, body=None, headers=None):
        for attempt in range(5):
            conn = self.connection()
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                time.sleep(0.2 * (attempt + 1))
                continue
            if response.status in (429, 500, 502, 503, 504):
                time.sleep(float(response.getheader("Retry-After") or 1))
                continue
            if response.status >= 400:
                raise RuntimeError("HTTP %d on %s: %s" % (response.status, path.split("?")[0], data[:200]))
            return json.loads(data)
        raise RuntimeError("giving up on " + path.split("?")[0])

    def authenticate(self, tenant):
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "scope": "https://graph.microsoft.com/.default",
        })
        answer = self.request("POST", "/%s/oauth2/v2.0/token" % tenant, form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
        self.token = answer["access_token"]

    def get(self, path_or_url):
        path = path_or_url[len(self.base):] if path_or_url.startswith(self.base) else path_or_url
        return self.request("GET", path, headers={"Authorization": "Bearer " + self.token, "Accept": "application/json"})

    def pages(self, path):
        """Yields the pages of a collection, following @odata.nextLink; the last one carries any deltaLink."""
        while path:
            page = self.get(path)
            yield page
            path = page.get("@odata.nextLink")


def latest_delta_link(graph, path):
    for page in graph.pages(path):
        if "@odata.deltaLink" in page:
            return page["@odata.deltaLink"]
    raise RuntimeError("no deltaLink")


def user_row(user):
    enabled = user.get("accountEnabled")
    return (user["id"], user["userPrincipalName"], user.get("displayName"), user.get("mail"), 1 if enabled is None else int(enabled))



def full_sync(graph, db, concurrency):
    links = {
        "users": latest_delta_link(graph, "/v1.0/users/delta?$select=%s&$deltatoken=latest" % USER_FIELDS),
        "groups": latest_delta_link(graph, "/v1.0/groups/delta?$select=displayName,mail,members&$deltatoken=latest"),
    }
    for page in graph.pages("/v1.0/users?$select=%s&$top=999" % USER_FIELDS):
        with db:
            db.executemany(UPSERT_USER, [user_row(u) for u in page["value"]])
    group_ids = []
    for page in graph.pages("/v1.0/groups?$select=%s&$top=999" % GROUP_FIELDS):
        rows = [(g["id"], g.get("displayName"), g.get("mail")) for g in page["value"]]
        group_ids += [row[0] for row in rows]
        with db:
            db.executemany(UPSERT_GROUP, rows)

    def members_of(group_id):
        rows = []
        for page in graph.pages("/v1.0/groups/%s/members?$select=id&$top=999" % group_id):
            rows += [(group_id, m["id"], member_type(m.get("@odata.type"))) for m in page["value"]]
        return group_id, rows

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        batch = []
        for count, (group_id, rows) in enumerate(pool.map(members_of, group_ids), 1):
            batch.append((group_id, rows))
            if len(batch) == 200 or count == len(group_ids):
                with db:
                    for gid, members in batch:
                        db.execute("DELETE FROM members WHERE group_id = ?", (gid,))
                        db.executemany("INSERT OR IGNORE INTO members VALUES (?, ?, ?)", members)
                batch = []
    with db:
        db.executemany("INSERT OR REPLACE INTO delta_links VALUES (?, ?)", list(links.items()))


def delta_sync(graph, db):
    links = dict(db.execute("SELECT resource, link FROM delta_links"))
    upserts, removed_users, new_links = {}, set(), {}
    for page in graph.pages(links["users"]):
        for user in page["value"]:
            if "@removed" in user:
                removed_users.add(user["id"])
                upserts.pop(user["id"], None)
            else:
                removed_users.discard(user["id"])
                upserts[user["id"]] = user_row(user)
        new_links["users"] = page.get("@odata.deltaLink", new_links.get("users"))
    groups, removed_groups, added, dropped = {}, set(), [], []
    for page in graph.pages(links["groups"]):
        for group in page["value"]:
            if "@removed" in group:
                removed_groups.add(group["id"])
                continue
            if "displayName" in group or "mail" in group:
                groups[group["id"]] = (group["id"], group.get("displayName"), group.get("mail"))
            for member in group.get("members@delta", []):
                row = (group["id"], member["id"], member_type(member.get("@odata.type")))
                (dropped if "@removed" in member else added).append(row)
        new_links["groups"] = page.get("@odata.deltaLink", new_links.get("groups"))
    with db:
        db.executemany(UPSERT_USER, list(upserts.values()))
        db.executemany("DELETE FROM users WHERE id = ?", [(i,) for i in removed_users])
        db.executemany("DELETE FROM members WHERE member_id = ?", [(i,) for i in removed_users | removed_groups])
        db.executemany(UPSERT_GROUP, list(groups.values()))
        db.executemany("DELETE FROM groups WHERE id = ?", [(i,) for i in removed_groups])
        db.executemany("DELETE FROM members WHERE group_id = ?", [(i,) for i in removed_groups])
        db.executemany("INSERT OR IGNORE INTO members VALUES (?, ?, ?)", added)
        db.executemany("DELETE FROM members WHERE group_id = ? AND member_id = ?", [r[:2] for r in dropped])
        db.executemany("INSERT OR REPLACE INTO delta_links VALUES (?, ?)", list(new_links.items()))
    return len(upserts) + len(removed_users)


def main():
    args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    mode = sys.argv[1]
    started = time.perf_counter()
    db = sqlite3.connect(args["--db"])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # tenantsync's setting: same durability, no fsync per commit
    db.executescript(SCHEMA)
    graph = Graph(args["--url"])
    graph.authenticate(args["--tenant"])
    changed = None
    if mode == "full":
        full_sync(graph, db, int(args.get("--concurrency", 8)))
    else:
        changed = delta_sync(graph, db)
    seconds = time.perf_counter() - started
    counts = [db.execute("SELECT count(*) FROM " + t).fetchone()[0] for t in ("users", "groups", "members")]
    print(json.dumps({"mode": mode, "seconds": seconds, "users": counts[0], "groups": counts[1],
                      "memberships": counts[2], "changed": changed, "peakRSSKiB": peak_rss_kib()}))


if __name__ == "__main__":
    main()
