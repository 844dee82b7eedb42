"""Peer A: the directory sync an operator would write with Microsoft's official Graph SDK for Python.

Choices, and why they are fair to this peer:
- msgraph-sdk (PyPI, pinned 1.65.0) as documented: GraphServiceClient with a credential object
  (an AsyncTokenCredential doing client credentials against the emulator's token endpoint, the role
  azure-identity's ClientSecretCredential plays against Microsoft), the request adapter's base_url
  pointed at the emulator, request builders with query parameters, and msgraph_core's PageIterator
  to walk the pages.
- The same job as tenantsync: the delta positions first ($deltatoken=latest), /users and /groups with
  $select of the kept fields and $top=999, then each group's direct members ($select=id, $top=999:
  the same pages tenantsync reads; transitiveMembers would make the server do more) with 8 listings
  in flight at once (asyncio.gather under a semaphore, tenantsync's default concurrency), because the
  SDK is async and a competent user overlaps the round trips.
- SQLite (sqlite3, WAL and synchronous=NORMAL like tenantsync): one transaction per 999 users or groups (a page's worth)
  and one per 200 groups of members; executemany with prepared upserts.
- Delta: the SDK's delta request builders with the stored delta links (with_url), pages followed by
  their nextLink; members@delta arrives in the model's additional_data; one transaction.

Prints one JSON line: seconds (the sync itself, after the imports), users, groups, memberships.
"""
import asyncio
import json
import sqlite3
import sys
import time

import httpx
from azure.core.credentials import AccessToken
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core.tasks.page_iterator import PageIterator

from peer_common import CLIENT_ID, CLIENT_SECRET, SCHEMA, UPSERT_GROUP, UPSERT_USER, member_type, peak_rss_kib

USER_FIELDS = ["id", "userPrincipalName", "displayName", "mail", "accountEnabled"]
GROUP_FIELDS = ["id", "displayName", "mail"]
STARTED = time.perf_counter()


class EmulatorClientSecretCredential:
    """An azure.core AsyncTokenCredential: client credentials against the emulator's token endpoint."""

    def __init__(self, base, tenant):
        self.url = "%s/%s/oauth2/v2.0/token" % (base, tenant)
        self.cached = None

    async def get_token(self, *scopes, **kwargs):
        if self.cached and self.cached.expires_on > time.time() + 300:
            return self.cached
        async with httpx.AsyncClient() as http:
            response = await http.post(self.url, data={
                "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "scope": "https://graph.microsoft.com/.default"})
            response.raise_for_status()
            body = response.json()
        self.cached = AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))
        return self.cached

    async def close(self):
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        pass


def user_row(user):
    enabled = user.account_enabled
    return (user.id, user.user_principal_name, user.display_name, user.mail, 1 if enabled is None else int(enabled))


PROGRESS = {"objects": 0}


def progress(count):
    """Tells the driver how far the sync got, so a timed-out run still yields a rate."""
    PROGRESS["objects"] += count
    print("progress objects=%d seconds=%.1f" % (PROGRESS["objects"], time.perf_counter() - STARTED), file=sys.stderr, flush=True)


class Batcher:
    """Collects rows from the PageIterator callback and writes them a page's worth per transaction."""

    def __init__(self, db, sql, size=999):
        self.db, self.sql, self.size, self.rows = db, sql, size, []

    def add(self, row):
        self.rows.append(row)
        if len(self.rows) >= self.size:
            self.flush()

    def flush(self):
        if self.rows:
            with self.db:
                self.db.executemany(self.sql, self.rows)
            progress(len(self.rows))
            self.rows = []


async def latest_delta_link(builder, url):
    page = await builder.with_url(url).get()
    while page.odata_delta_link is None:
        page = await builder.with_url(page.odata_next_link).get()
    return page.odata_delta_link


async def full_sync(client, base, db, concurrency):
    links = {
        "users": await latest_delta_link(client.users.delta, "%s/v1.0/users/delta?$select=%s&$deltatoken=latest"
                                         % (base, ",".join(USER_FIELDS))),
        "groups": await latest_delta_link(client.groups.delta, "%s/v1.0/groups/delta?$select=displayName,mail,members"
                                          "&$deltatoken=latest" % base),
    }

    users = Batcher(db, UPSERT_USER)
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=USER_FIELDS, top=999)
    page = await client.users.get(request_configuration=RequestConfiguration(query_parameters=query))
    await PageIterator(page, client.request_adapter).iterate(lambda user: users.add(user_row(user)) or True)
    users.flush()

    group_ids = []
    groups = Batcher(db, UPSERT_GROUP)

    def on_group(group):
        group_ids.append(group.id)
        groups.add((group.id, group.display_name, group.mail))
        return True

    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(select=GROUP_FIELDS, top=999)
    page = await client.groups.get(request_configuration=RequestConfiguration(query_parameters=query))
    await PageIterator(page, client.request_adapter).iterate(on_group)
    groups.flush()

    gate = asyncio.Semaphore(concurrency)
    member_query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(select=["id"], top=999)

    async def members_of(group_id):
        async with gate:
            rows = []
            page = await client.groups.by_group_id(group_id).members.get(
                request_configuration=RequestConfiguration(query_parameters=member_query))
            await PageIterator(page, client.request_adapter).iterate(
                lambda m: rows.append((group_id, m.id, member_type(m.odata_type))) or True)
            return group_id, rows

    for start in range(0, len(group_ids), 200):
        chunk = await asyncio.gather(*(members_of(g) for g in group_ids[start:start + 200]))
        with db:
            for gid, rows in chunk:
                db.execute("DELETE FROM members WHERE group_id = ?", (gid,))
                db.executemany("INSERT OR IGNORE INTO members VALUES (?, ?, ?)", rows)
        progress(sum(len(rows) for _, rows in chunk))
    with db:
        db.executemany("INSERT OR REPLACE INTO delta_links VALUES (?, ?)", list(links.items()))


async def delta_sync(client, db):
    links = dict(db.execute("SELECT resource, link FROM delta_links"))
    upserts, removed_users, new_links = {}, set(), {}
    url = links["users"]
    while url:
        page = await client.users.delta.with_url(url).get()
        for user in page.value or []:
            if "@removed" in (user.additional_data or {}):
                removed_users.add(user.id)
                upserts.pop(user.id, None)
            else:
                removed_users.discard(user.id)
                upserts[user.id] = user_row(user)
        if page.odata_delta_link:
            new_links["users"] = page.odata_delta_link
        url = page.odata_next_link
    groups, removed_groups, added, dropped = {}, set(), [], []
    url = links["groups"]
    while url:
        page = await client.groups.delta.with_url(url).get()
        for group in page.value or []:
            extra = group.additional_data or {}
            if "@removed" in extra:
                removed_groups.add(group.id)
                continue
            if group.display_name is not None or group.mail is not None:
                groups[group.id] = (group.id, group.display_name, group.mail)
            for member in extra.get("members@delta", []):
                row = (group.id, member["id"], member_type(member.get("@odata.type")))
                (dropped if "@removed" in member else added).append(row)
        if page.odata_delta_link:
            new_links["groups"] = page.odata_delta_link
        url = page.odata_next_link
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


async def main():
    mode = sys.argv[1]
    args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    base = args["--url"].rstrip("/")
    started = STARTED
    db = sqlite3.connect(args["--db"])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # tenantsync's setting: same durability, no fsync per commit
    db.executescript(SCHEMA)
    credential = EmulatorClientSecretCredential(base, args["--tenant"])
    client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = base + "/v1.0"
    changed = None
    if mode == "full":
        await full_sync(client, base, db, int(args.get("--concurrency", 8)))
    else:
        changed = await delta_sync(client, db)
    seconds = time.perf_counter() - started
    counts = [db.execute("SELECT count(*) FROM " + t).fetchone()[0] for t in ("users", "groups", "members")]
    print(json.dumps({"mode": mode, "seconds": seconds, "users": counts[0], "groups": counts[1],
                      "memberships": counts[2], "changed": changed, "peakRSSKiB": peak_rss_kib()}))


if __name__ == "__main__":
    asyncio.run(main())
