"""Graph-cost benchmark (issue 16): what a full and a delta directory sync cost in Microsoft Graph requests,
resource units (RU), 429s and wall time, against the emulator with a round-trip latency and Microsoft's budgets
ENFORCED (throttling on, a large tenant's limits: 8,000 RU per 10 s per app and tenant, 150,000 RU per 20 s per app).

Contenders, one after another against ONE emulator, each from full buckets (`DELETE /_emulator/usage?refill=true`
and a pause so the daemon's own pacer is full again too):
- tenantsync: the real release `tenantsyncd`, provisioned (SharePoint Online, scope all) through `tenantsyncctl`
  with the device-code flow approved through the admin API; its provisioning sync is the tenant's FIRST sync (size
  class unknown); then a forced full sync (`tenantsyncctl sync --full --wait`) and, after 1 % changed, a delta sync
  (`tenantsyncctl sync --wait`).
- peer B: Benchmarks/peers/peer_plain.py (plain HTTP, one /members listing per group, 8 at once), full then delta,
  each bounded by --peer-timeout; a full run that does not finish is reported with the requests and RU it spent in
  the time it had, the share of the groups it had listed, and the extrapolation to the whole plan.

Figures per run: requests and RU and 429s from the emulator's usage API (`GET /_emulator/tenants/{t}/usage`,
metered Graph requests only: token requests are not Graph reads), wall time measured here around the command.

The floor of a run (see BENCHMARKS.md, "Graph cost"):
    fewest   = the fewest Graph requests the documented API allows for this read (computed from the tenant's shape)
    chain    = the longest chain of requests that must follow one another (each page needs the previous page's link;
               the users listing and the group round are independent and may overlap)
    floor    = max(chain * latency, RU spent / (share * tenant quota per second))
Standard library only. Prints progress to stderr and one JSON document to stdout; --out writes the section into
BENCHMARKS.md between the graph-cost-benchmark markers.
"""
import argparse
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench_support import Admin, load, machine_line, stop, write_marked_section

HERE = os.path.dirname(os.path.abspath(__file__))
USERS_PAGE = 999          # $top=999: the largest page `/users` serves
DELTA_MEMBERS_PAGE = 1000  # the emulator's deltaMembersPerPage (Microsoft publishes no number)
DELTA_GROUPS_PAGE = 999   # Prefer: odata.maxpagesize=999, the largest page a delta round serves
TENANT_QUOTA_L = 8000     # RU per 10 s per app and tenant above 500 users


def log(message):
    print(message, file=sys.stderr, flush=True)







class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="graph-cost-")
        self.processes = []
        self.latency = args.latency_ms / 1000.0

    # -- emulator -----------------------------------------------------------------------------------------------

    def start_emulator(self):
        a = self.args
        self.emulator_log = open(os.path.join(self.work, "emulator.log"), "wb")
        process = subprocess.Popen([a.emulator, "--port", "0", "--tenants", "1", "--users", str(a.users), "--groups",
                                    str(a.groups), "--seed", str(a.seed), "--latency", "%dms" % a.latency_ms],
                                   stdout=subprocess.PIPE, stderr=self.emulator_log, text=True)
        self.processes.append(process)
        self.url = process.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit("emulator did not start; see %s" % self.emulator_log.name)
        self.admin = Admin(self.url)
        _, tenants = self.admin.call("GET", "/_emulator/tenants")
        self.tenant, self.domain = tenants[0]["id"], tenants[0]["domain"]
        _, settings = self.admin.call("GET", "/_emulator/tenants/%s" % self.tenant)
        log("emulator at %s, tenant %s (throttling %s)" % (self.url, self.domain, settings["settings"].get("throttlingEnabled")))
        _, listed = self.admin.call("GET", "/_emulator/tenants/%s/users?limit=%d" % (self.tenant, a.users + 10))
        self.user_ids = [u["id"] for u in listed if u.get("state", "active") == "active"]
        _, listed_groups = self.admin.call("GET", "/_emulator/tenants/%s/groups" % self.tenant)
        self.group_ids = [g["id"] for g in listed_groups]

    def top_up(self):
        """Adds users to random groups until about --memberships (the seed's own count given by --base-memberships)."""
        a = self.args
        missing = a.memberships - a.base_memberships
        if missing <= 0:
            return
        rng = random.Random(a.seed)
        pairs = [(self.group_ids[rng.randrange(len(self.group_ids))], self.user_ids[rng.randrange(len(self.user_ids))])
                 for _ in range(missing)]
        started = time.monotonic()

        def add(chunk):
            added = 0
            for gid, uid in chunk:
                status, _ = self.admin.call("POST", "/_emulator/tenants/%s/groups/%s/members" % (self.tenant, gid), {"id": uid})
                if status < 300:
                    added += 1
                elif status not in (400, 409):
                    raise RuntimeError("adding a member answered %d" % status)
            return added

        with ThreadPoolExecutor(4) as pool:
            added = sum(pool.map(add, [pairs[i::4] for i in range(4)]))
        log("topped up %d memberships in %.1f s" % (added, time.monotonic() - started))

    def usage(self):
        _, u = self.admin.call("GET", "/_emulator/tenants/%s/usage" % self.tenant)
        return u["total"]

    def fresh_budget(self):
        """Zeroes the counters, refills the emulator's buckets, and waits until the daemon's pacer is full again."""
        status, _ = self.admin.call("DELETE", "/_emulator/usage?refill=true")
        assert status < 300, status
        time.sleep(self.args.settle)

    # -- tenantsync ---------------------------------------------------------------------------------------------

    def start_daemon(self):
        a = self.args
        state = os.path.join(self.work, "state")
        os.makedirs(state)
        with open(os.path.join(self.work, "client-secret"), "w") as f:
            f.write("emulator-client-secret")
        os.chmod(os.path.join(self.work, "client-secret"), 0o600)
        window = time.gmtime(time.time() + 12 * 3600)  # no daily run during the benchmark
        self.config = os.path.join(self.work, "tenantsyncd.toml")
        with open(self.config, "w") as f:
            f.write('[daemon]\nstate_directory = "%s"\ncontrol_socket = "%s/control"\nlog_target = "stderr"\n\n'
                    '[microsoft]\nauthority = "%s"\ngraph = "%s"\noutlook = "%s/outlook"\nmanagement = "%s/manage"\n'
                    'client_secret_file = "%s/client-secret"\n\n[sync]\ndaily_window_start = "%02d:%02d"\n'
                    % (state, self.work, self.url, self.url, self.url, self.url, self.work, window.tm_hour, window.tm_min))
        self.state = state
        self.daemon_log = open(os.path.join(self.work, "tenantsyncd.log"), "wb")
        process = subprocess.Popen([a.daemon, "--config", self.config], stdout=subprocess.DEVNULL, stderr=self.daemon_log)
        self.processes.append(process)
        self.daemon = process
        self.socket = os.path.join(self.work, "control")
        deadline = time.monotonic() + 60
        while not (os.path.exists(self.socket) and self.ctl("status", check=False).returncode == 0):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("tenantsyncd did not start; see %s" % self.daemon_log.name)
            time.sleep(0.1)

    def ctl(self, *arguments, check=True, timeout=3600):
        result = subprocess.run([self.args.ctl, "--socket", self.socket] + list(arguments), capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError("tenantsyncctl %s failed (%d): %s" % (" ".join(arguments), result.returncode,
                                                                     (result.stderr or result.stdout).strip()[-500:]))
        return result

    def database(self):
        return sqlite3.connect("file:%s?mode=ro" % os.path.join(self.state, "tenantsync.sqlite"), uri=True, timeout=30)

    def last_run(self):
        """(trigger, mode, state, started_at, finished_at, pages) of the tenant's latest sync run, or None."""
        db = self.database()
        try:
            return db.execute("SELECT trigger, mode, state, started_at, finished_at, pages FROM sync_runs "
                              "WHERE tenant_id = ? ORDER BY id DESC LIMIT 1", (self.tenant,)).fetchone()
        finally:
            db.close()

    def directory_counts(self):
        db = self.database()
        try:
            return tuple(db.execute("SELECT count(*) FROM %s WHERE tenant_id = ?" % t, (self.tenant,)).fetchone()[0]
                         for t in ("directory_users", "directory_groups", "group_members"))
        finally:
            db.close()

    def provision(self):
        """Provisions SharePoint Online with scope all; its provisioning sync is the tenant's first (size unknown)."""
        self.admin.call("PATCH", "/_emulator/tenants/%s/settings" % self.tenant, {"deviceCodeIntervalSeconds": 1})
        self.fresh_budget()
        approver = threading.Thread(target=lambda: self.admin.call(
            "POST", "/_emulator/tenants/%s/device-codes/approve-next?wait=30" % self.tenant))
        approver.start()
        started = time.monotonic()
        self.ctl("provision", "sharepoint-online", "--tenant", self.domain, "--device-code", "--scope", "all", "--confirm-app-principal")
        approver.join()
        # The provisioning sync runs in the daemon; wait for the tenant's first run to end (polling its database
        # read-only: the figures come from the emulator, the poll only decides when to read them).
        while True:
            run = self.last_run()
            if run is not None and run[2] != "running":
                break
            if time.monotonic() - started > 3600:
                raise RuntimeError("the provisioning sync did not end within an hour")
            time.sleep(0.05)
        if run[2] != "succeeded":
            raise RuntimeError("the provisioning sync ended %s" % (run,))
        return time.monotonic() - started, run

    def timed_sync(self, *extra):
        started = time.monotonic()
        self.ctl("sync", "--tenant", self.domain, "--wait", *extra)
        wall = time.monotonic() - started
        run = self.last_run()
        if run[2] != "succeeded":
            raise RuntimeError("the sync ended %s" % (run,))
        return wall, run

    # -- peer B ---------------------------------------------------------------------------------------------------

    def peer(self, mode, db, timeout):
        command = [self.args.python, os.path.join(HERE, "peers", "peer_plain.py"), mode, "--url", self.url, "--tenant",
                   self.tenant, "--db", db, "--concurrency", "8"]
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=os.path.join(HERE, "peers"))
        self.processes.append(process)
        try:
            out, err = process.communicate(timeout=timeout)
            wall = time.monotonic() - started
            if process.returncode != 0:
                raise RuntimeError("peer B %s failed: %s" % (mode, err.strip()[-500:]))
            return wall, json.loads(out.strip().splitlines()[-1]), False
        except subprocess.TimeoutExpired:
            wall = time.monotonic() - started
            process.kill()
            process.communicate()
            return wall, None, True

    # -- the run ----------------------------------------------------------------------------------------------------

    def mutate(self):
        """1 % changed: 1 % of the users renamed, and 1 % of the groups gain a member and lose one."""
        rng = random.Random(self.args.seed + 1)
        users = rng.sample(self.user_ids, max(1, len(self.user_ids) // 100))
        groups = rng.sample(self.group_ids, max(1, len(self.group_ids) // 100))

        def rename(uid):
            status, _ = self.admin.call("PATCH", "/_emulator/tenants/%s/users/%s" % (self.tenant, uid),
                                        {"displayName": "Changed %s" % uid[:8], "jobTitle": "Changed"})
            assert status < 300, status

        def add(gid):
            status, _ = self.admin.call("POST", "/_emulator/tenants/%s/groups/%s/members" % (self.tenant, gid),
                                        {"id": self.user_ids[rng.randrange(len(self.user_ids))]})
            assert status < 300 or status in (400, 409), status

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(rename, users))
            list(pool.map(add, groups))
        return len(users), len(groups)


def fewest_full(users, groups, memberships):
    """The fewest requests of a full read, and the longest chain of them that must run one after another."""
    users_chain = 1 + math.ceil(users / USERS_PAGE)          # the users' delta position, then /users pages
    groups_chain = max(math.ceil(memberships / DELTA_MEMBERS_PAGE), math.ceil(groups / DELTA_GROUPS_PAGE), 1)
    return users_chain + groups_chain, max(users_chain, groups_chain)


def fewest_delta(changed_users, changed_groups):
    users_chain = max(1, math.ceil(changed_users / DELTA_GROUPS_PAGE))
    groups_chain = max(1, math.ceil(changed_groups / DELTA_GROUPS_PAGE))
    return users_chain + groups_chain, max(users_chain, groups_chain)


def floor_seconds(fewest, chain, latency, ru, share):
    """(the floor, the stricter bound): see the module's docstring and BENCHMARKS.md."""
    ru_time = ru / (share * TENANT_QUOTA_L / 10.0)
    return max(fewest * latency, ru_time), max(chain * latency, ru_time), ru_time


def run_seconds(run):
    """The sync's own wall time from its run record (started_at to finished_at)."""
    def parse(text):
        return time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + text[19:].rstrip("Z"))
    return parse(run[4]) - parse(run[3])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--emulator", required=True)
    p.add_argument("--daemon", required=True)
    p.add_argument("--ctl", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--groups", type=int, default=10_000)
    p.add_argument("--memberships", type=int, default=300_000)
    p.add_argument("--base-memberships", type=int, default=128_326,
                   help="memberships the emulator generates for --users/--groups/--seed (128,326 for 100k/10k/seed 7)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--latency-ms", type=int, default=50)
    p.add_argument("--share", type=float, default=0.25, help="the daemon's [sync] graph_budget_share (its default)")
    p.add_argument("--peer-timeout", type=int, default=300)
    p.add_argument("--settle", type=float, default=12, help="seconds between runs for the daemon's pacer to refill")
    p.add_argument("--skip-peer", action="store_true")
    p.add_argument("--out", default="")
    p.add_argument("--command", default="bash Benchmarks/graph-cost.sh")
    args = p.parse_args()

    bench = Bench(args)
    report = {"machine": machine_line(), "loadStart": load(), "command": args.command, "latencyMs": args.latency_ms,
              "share": args.share, "users": args.users, "groups": args.groups}
    try:
        bench.start_emulator()
        bench.top_up()
        bench.start_daemon()

        log("== tenantsync: provisioning and its first sync (size class unknown) ==")
        wall, run = bench.provision()
        usage = bench.usage()
        counts = bench.directory_counts()
        report["memberships"] = counts[2]
        report["first"] = {"wall": wall, "usage": usage, "counts": counts, "run": run}
        log("  first: %.2f s, %s, directory %s, run %s" % (wall, json.dumps(usage), counts, run))

        bench.fresh_budget()
        log("== tenantsync: full sync ==")
        wall, run = bench.timed_sync("--full")
        report["full"] = {"wall": wall, "usage": bench.usage(), "counts": bench.directory_counts(), "run": run}
        log("  full: %.2f s, %s, run %s" % (wall, json.dumps(report["full"]["usage"]), run))

        peer_db = os.path.join(bench.work, "peer.sqlite")
        if not args.skip_peer:
            bench.fresh_budget()
            log("== peer B: full sync (bounded to %d s) ==" % args.peer_timeout)
            wall, result, timed_out = bench.peer("full", peer_db, args.peer_timeout)
            entry = {"wall": wall, "usage": bench.usage(), "timedOut": timed_out, "result": result}
            if timed_out:
                db = sqlite3.connect(peer_db)
                listed = db.execute("SELECT count(DISTINCT group_id) FROM members").fetchone()[0]
                db.close()
                entry["groupsListed"] = listed
            report["peerFull"] = entry
            log("  peer B full: %.2f s, %s%s" % (wall, json.dumps(entry["usage"]), " (timed out)" if timed_out else ""))

        changed_users, changed_groups = bench.mutate()
        report["changed"] = {"users": changed_users, "groups": changed_groups}
        bench.fresh_budget()
        log("== tenantsync: delta sync after 1 % changed ==")
        wall, run = bench.timed_sync()
        report["delta"] = {"wall": wall, "usage": bench.usage(), "run": run}
        log("  delta: %.2f s, %s, run %s" % (wall, json.dumps(report["delta"]["usage"]), run))

        if not args.skip_peer and not report["peerFull"]["timedOut"]:
            bench.fresh_budget()
            log("== peer B: delta sync ==")
            wall, result, timed_out = bench.peer("delta", peer_db, args.peer_timeout)
            report["peerDelta"] = {"wall": wall, "usage": bench.usage(), "timedOut": timed_out, "result": result}
            log("  peer B delta: %.2f s, %s" % (wall, json.dumps(report["peerDelta"]["usage"])))
        report["loadEnd"] = load()
    finally:
        for process in reversed(bench.processes):
            stop(process, 30)
    report["work"] = bench.work
    print(json.dumps(report, indent=1))
    if args.out:
        write_marked_section(args.out, "graph-cost", render(report))


def render(r):
    """The BENCHMARKS.md table (the findings around it are written by hand)."""
    lat, share = r["latencyMs"] / 1000.0, r["share"]
    fewest, chain = fewest_full(r["users"], r["groups"], r["memberships"])
    d_fewest, d_chain = fewest_delta(r["changed"]["users"], r["changed"]["groups"])
    rows = []

    def row(name, entry, fewest, chain, wall, note="", budget_share=share):
        u = entry["usage"]
        floor, bound, ru_time = floor_seconds(fewest, chain, lat, u["resourceUnits"], budget_share)
        rows.append("| %s | %d | %d (%.2f×) | %d | %d | %.2f | %.2f | %.2f (%.2f×) | %.2f (%.2f×) | %s |" % (
            name, u["requests"], fewest, u["requests"] / fewest, u["resourceUnits"], u["throttled"], wall, ru_time,
            floor, wall / floor, bound, wall / bound, note))

    first = r["first"]
    row("tenantsync: first sync, at provisioning (size class unknown)", first, fewest, chain, run_seconds(first["run"]),
        "requests and RU include provisioning's own (%.2f s from `provision` to the run's end)" % first["wall"])
    row("tenantsync: full sync (`sync --full --wait`)", r["full"], fewest, chain, run_seconds(r["full"]["run"]),
        "%.2f s around the CLI" % r["full"]["wall"])
    if "peerFull" in r:
        p = r["peerFull"]
        if p["timedOut"]:
            row("peer B: full sync", p, fewest, chain, p["wall"],
                "timed out; %d of %d groups listed" % (p.get("groupsListed", 0), r["groups"]), budget_share=1.0)
        else:
            row("peer B: full sync", p, fewest, chain, p["result"]["seconds"],
                "%.2f s process wall; RU time at the whole budget (peer B keeps no share)" % p["wall"], budget_share=1.0)
    row("tenantsync: delta after 1 % changed", r["delta"], d_fewest, d_chain, run_seconds(r["delta"]["run"]),
        "%.2f s around the CLI" % r["delta"]["wall"])
    if "peerDelta" in r:
        p = r["peerDelta"]
        row("peer B: delta after 1 % changed", p, d_fewest, d_chain, p["result"]["seconds"], "%.2f s process wall" % p["wall"],
            budget_share=1.0)
    lines = [
        "Command: `%s`" % r["command"], "",
        "Machine: %s. Load average (1/5/15 min) at start: %s, at the end: %s." % (r["machine"], r["loadStart"], r.get("loadEnd", "?")), "",
        "Tenant: %d users, %d groups, %d memberships (as tenantsync stored them); emulator latency %d ms per request, "
        "throttling enforced (8,000 RU per 10 s for this app and tenant, 150,000 per 20 s for the app); tenantsync's "
        "`graph_budget_share` %.2f (its default). 1 %% changed: %d users renamed, %d groups gained a member." % (
            r["users"], r["groups"], r["memberships"], r["latencyMs"], share, r["changed"]["users"], r["changed"]["groups"]), "",
        "| run | Graph requests | fewest possible (ratio) | RU | 429s received | wall (s) | RU time at the share (s) "
        "| floor (s) (wall ÷ floor) | critical-path bound (s) (wall ÷ bound) | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ] + rows
    return "\n".join(lines)


if __name__ == "__main__":
    main()
