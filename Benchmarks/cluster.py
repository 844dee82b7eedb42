"""Cluster benchmark (issue 17): three release tenantsyncd on one PostgreSQL against one on SQLite, same state.

Run through Benchmarks/cluster.sh (which builds first). Standard library only. Not a test.

One run, in a fresh temporary directory, every part real: Debian's PostgreSQL 15 (a private server: its own data
directory, a free loopback port, run as the `postgres` user, `pg_stat_statements` preloaded), the release
`tenantsync-emulator` with N tenants in strict refresh-token rotation, the release `tenantsyncd`.

  1. Seed (not measured): `tenantsync-bench cluster-seed` writes N tenants (2 accounts each) and M delegated grants
     into a SQLite state directory through the store; every grant is consented at the emulator with its own
     authorization-code flow, so every refresh token is one the emulator really redeems. The tokens exist only in
     this emulator's memory: the state cannot be cached across runs.
  2. SQLite, one node: every grant's `next_refresh_at` is set to one instant T a few seconds after the daemon's
     start; measured: T until the last grant's new token set is stored (`max(last_refresh_at)`), refreshes/s.
  3. The same state, refreshed once by step 2, is moved with `tenantsyncd --migrate-to-postgresql` (timed, not a
     target) and three nodes start on it; every grant is made due at one instant again and measured the same way.
     `pg_stat_statements` counts the nodes' statements (the role `tenantsync`; this script reads as the role `bench`,
     so its own polling is not counted): statements in the phase ÷ refreshes.
  4. Idle: the same three nodes over --idle-seconds with nothing due: statements per second.
  5. Failover: every grant due again; --kill-after seconds later node-1 is SIGKILLed. Its token-refresh leases at that
     moment whose grant it had not stored yet must be taken over by another node; measured: kill until the last of
     those grants has a new token set stored by another node (target ≤ lease duration + 5 s). The round is then
     finished by the two others.
  After every phase the emulator's counters of every tenant are summed: in strict rotation a second redemption of a
  refresh token is counted (`token.refresh_token.reused` or `.retried`); 0 is the only right answer in phases 2 and
  3, and in phase 5 at most one retry per lease the dead node held (a redemption it sent whose answer died with it).
"""
import argparse
import concurrent.futures
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

from bench_support import Admin, load, machine_line, stop, write_marked_section

TARGETS = {"failover_slack": 5.0, "idle_qps": 10.0}
PG_BIN = "/usr/lib/postgresql/15/bin"


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def proc_status(pid, field):
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # MiB
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def iso(epoch):
    """The SQLite store's timestamp text (Timestamp.text): UTC, milliseconds, `Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%03dZ" % int((epoch % 1) * 1000)


def from_iso(text):
    import calendar
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + int(text[20:23]) / 1000


class PostgreSQL:
    """A private PostgreSQL 15: own data directory, loopback port, trust authentication, pg_stat_statements."""

    def __init__(self, directory):
        self.directory = directory
        self.port = None
        os.makedirs(directory)
        self.run_as = []
        if os.geteuid() == 0:  # initdb refuses root: the server runs as Debian's postgres user
            account = pwd.getpwnam("postgres")
            os.chown(directory, account.pw_uid, account.pw_gid)
            self.run_as = ["/usr/sbin/runuser", "-u", "postgres", "--"]

    def start(self):
        subprocess.run(self.run_as + [PG_BIN + "/initdb", "-D", self.directory + "/data", "-A", "trust", "-U", "tenantsync", "-E", "UTF8"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.port = free_port()
        options = " ".join([
            "-p %d" % self.port, "-k %s" % self.directory, "-c listen_addresses=127.0.0.1", "-c max_connections=200",
            "-c shared_preload_libraries=pg_stat_statements", "-c pg_stat_statements.track=top", "-c pg_stat_statements.max=5000",
        ])
        subprocess.run(self.run_as + [PG_BIN + "/pg_ctl", "-D", self.directory + "/data", "-l", self.directory + "/log", "-o", options,
                                      "-w", "-t", "60", "start"], check=True, stdout=subprocess.DEVNULL)
        self.psql("postgres", "CREATE DATABASE tenantsync", user="tenantsync")
        self.psql("postgres", "CREATE ROLE bench SUPERUSER LOGIN", user="tenantsync")
        # The extension's view lives in `postgres`: the daemons' database stays as they made it (the migration
        # refuses a database holding data).
        self.psql("postgres", "CREATE EXTENSION pg_stat_statements")

    def stop(self):
        if self.port:
            subprocess.run(self.run_as + [PG_BIN + "/pg_ctl", "-D", self.directory + "/data", "-m", "fast", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def psql(self, database, sql, user="bench"):
        result = subprocess.run([PG_BIN + "/psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                                 "-p", str(self.port), "-U", user, "-d", database, "-c", sql],
                                capture_output=True, text=True, env=dict(os.environ, PGSSLMODE="disable"))
        if result.returncode != 0:
            raise SystemExit("psql failed: %s" % result.stderr.strip()[-500:])
        return result.stdout.strip()

    def rows(self, database, sql):
        text = self.psql(database, sql)
        return [line.split("|") for line in text.splitlines()] if text else []

    def value(self, database, sql):
        return self.psql(database, sql)

    def statements(self):
        """Calls per statement of the daemons (role tenantsync, database tenantsync) so far."""
        rows = self.rows("postgres", """
            SELECT s.queryid, s.calls, s.total_exec_time, regexp_replace(left(s.query, 160), '\\s+', ' ', 'g')
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
            WHERE d.datname = 'tenantsync' AND r.rolname = 'tenantsync'""")
        return {row[0]: (int(row[1]), float(row[2]), row[3]) for row in rows}

    def transactions(self):
        """xact_commit + xact_rollback of the database (everyone's, this script's polling included)."""
        return int(self.value("postgres", "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'tenantsync'"))


def statement_delta(before, after, top=6):
    """Statements between two readings: the total, the most called, the most server time (ms)."""
    total = sum(calls for calls, _, _ in after.values()) - sum(calls for calls, _, _ in before.values())
    changes = []
    for queryid, (calls, milliseconds, text) in after.items():
        was = before.get(queryid, (0, 0.0, ""))
        if calls > was[0]:
            changes.append((calls - was[0], milliseconds - was[1], text))
    by_calls = sorted(changes, key=lambda change: -change[0])[:top]
    by_time = sorted(changes, key=lambda change: -change[1])[:top]
    return total, by_calls, by_time, sum(change[1] for change in changes)


class Emulator:
    def __init__(self, binary, tenants):
        self.process = subprocess.Popen([binary, "--port", "0", "--tenants", str(tenants), "--users", "1", "--groups", "0", "--no-throttling"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.process.kill()
            raise SystemExit("the emulator did not start")
        self.admin = Admin(self.url)
        status, listing = self.admin.call("GET", "/_emulator/tenants")
        self.tenants = [tenant["id"] for tenant in listing][:tenants]

    def each_tenant(self, function):
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            return list(pool.map(function, self.tenants))

    def strict(self):
        def patch(tenant):
            status, _ = self.admin.call("PATCH", "/_emulator/tenants/%s/settings" % tenant,
                                        {"strictRefreshTokens": True, "strictRefreshTokenRetry": True})
            if status != 200:
                raise SystemExit("PATCH settings answered %d" % status)
        self.each_tenant(patch)

    def counters(self):
        """The refresh-token counters summed over every tenant."""
        names = ("token.refresh_token", "token.refresh_token.reused", "token.refresh_token.retried", "token.authorization_code")
        def read(tenant):
            status, counters = self.admin.call("GET", "/_emulator/tenants/%s/counters" % tenant)
            return [counters.get(name, 0) for name in names]
        sums = [sum(column) for column in zip(*self.each_tenant(read))]
        return dict(zip(("refresh", "reused", "retried", "consents"), sums))


def counter_delta(before, after):
    return {key: after[key] - before[key] for key in after}


class Daemon:
    """One tenantsyncd with its own state directory, control socket, notify socket and log file."""

    def __init__(self, binary, directory, name):
        self.binary, self.directory, self.name = binary, directory, name
        self.state = os.path.join(directory, "state")
        self.config = os.path.join(directory, "tenantsyncd.toml")
        self.process = None
        os.makedirs(self.state, exist_ok=True)

    def write_config(self, url, key, secret, window, database=None, lease_seconds=30, pg_port=None, path=None, tls_only=False):
        """The node's configuration; `database` names the PostgreSQL database (none: SQLite in the state directory).

        `tls_only`: a `[database]` section with only `tls` (the migration's configuration: its URL is the command's)."""
        if database:
            section = '[database]\nurl = "postgresql://tenantsync@127.0.0.1:%d/%s"\ntls = "disable"\n' % (pg_port, database)
        else:
            section = '[database]\ntls = "disable"\n' if tls_only else ""
        text = """[daemon]
state_directory = "%s"
key_file = "%s"
control_socket = "%s/control"
log_target = "stderr"
shutdown_timeout = "20s"
node_name = "%s"

%s
[cluster]
lease_duration = "%ds"

[sync]
daily_window_start = "%s"
daily_window_length = "1h"

[microsoft]
authority = "%s"
graph = "%s"
outlook = "%s/outlook"
client_secret_file = "%s"
""" % (self.state, key, self.directory, self.name, section, lease_seconds, window, url, url, url, secret)
        with open(path or self.config, "w") as handle:
            handle.write(text)

    def start(self):
        notify_path = os.path.join(self.directory, "notify")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        environment = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC")}
        environment["NOTIFY_SOCKET"] = notify_path
        self.log_file = open(os.path.join(self.directory, "tenantsyncd.log"), "a+")
        self.started = time.time()
        self.process = subprocess.Popen([self.binary, "--config", self.config], env=environment, stdout=subprocess.DEVNULL, stderr=self.log_file)

    def wait_ready(self, timeout=120):
        self.notify.settimeout(timeout)
        while True:
            try:
                message = self.notify.recv(4096).decode(errors="replace")
            except socket.timeout:
                raise SystemExit("%s: no READY=1 within %d s; its log ends:\n%s" % (self.name, timeout, self.log_tail()))
            if "READY=1" in message.split("\n"):
                self.ready = time.time() - self.started
                return self.ready

    @property
    def pid(self):
        return self.process.pid

    def log_tail(self, size=3000):
        self.log_file.flush()
        with open(self.log_file.name) as handle:
            return handle.read()[-size:]

    def stop(self):
        status = stop(self.process, 30)
        self.notify.close()
        return status

    def errors(self):
        with open(self.log_file.name) as handle:
            return [line for line in handle if " error " in line.lower() or "critical" in line.lower()][:5]


def wait_refreshed(count_done, total, deadline, what):
    """Polls until `count_done()` reaches `total`; returns the number reached."""
    done, reported = 0, time.time()
    while time.time() < deadline:
        done = count_done()
        if done >= total:
            return done
        if time.time() - reported >= 15:
            log("   %s: %d of %d refreshed" % (what, done, total))
            reported = time.time()
        time.sleep(0.5)
    log("   WARNING: %s: only %d of %d refreshed before the timeout" % (what, done, total))
    return done


def sleep_until(moment):
    time.sleep(max(0.0, moment - time.time()))


def run(args):
    work = tempfile.mkdtemp(prefix="tsc-", dir="/tmp")  # short: Unix socket paths are limited to 108 bytes
    os.chmod(work, 0o755)
    result = {"tenants": args.tenants, "grants": args.grants, "nodes": args.nodes, "lease_seconds": args.lease_seconds}
    pg = PostgreSQL(os.path.join(work, "pg"))
    emulator, daemons = None, []
    try:
        log("== PostgreSQL 15 and the emulator (%d tenants) ==" % args.tenants)
        pg.start()
        began = time.time()
        emulator = Emulator(args.emulator, args.tenants)
        emulator.strict()
        log("   emulator ready with %d tenants in strict rotation (%.1f s)" % (len(emulator.tenants), time.time() - began))
        secret = os.path.join(work, "client-secret")
        with open(secret, "w") as handle:
            handle.write("emulator-client-secret")
        os.chmod(secret, 0o600)
        key = os.path.join(work, "tenantsync.key")
        # No daily sync during the run: the window opens about twelve hours from now.
        window = time.strftime("%H:00", time.gmtime(time.time() + 12 * 3600))

        # 1. Seed, into the single node's state directory.
        single = Daemon(args.daemon, os.path.join(work, "single"), "single")
        single.write_config(emulator.url, key, secret, window)
        log("== seeding %d tenants, %d grants (each consented at the emulator) ==" % (args.tenants, args.grants))
        seeded = subprocess.run([args.bench, "cluster-seed", "--config", single.config, "--url", emulator.url, "--tenants", str(args.tenants),
                                 "--grants", str(args.grants)], capture_output=True, text=True)
        if seeded.returncode != 0:
            raise SystemExit("cluster-seed failed: %s" % seeded.stderr.strip()[-1500:])
        result["seed"] = json.loads(seeded.stdout.strip().splitlines()[-1])
        log("   seeded in %.1f s (consents %.1f s): %s" % (result["seed"]["seedSeconds"], result["seed"]["consentSeconds"], result["seed"]))
        counters = [emulator.counters()]
        result["load_before"] = load()

        # 2. One node on SQLite: every grant due at one instant.
        database = os.path.join(single.state, "tenantsync.sqlite")
        due = time.time() + args.lead
        connection = sqlite3.connect(database)
        connection.execute("UPDATE token_sets SET next_refresh_at = ?", (iso(due),))
        connection.commit()
        connection.close()
        log("== SQLite, 1 node: %d grants due at once ==" % args.grants)
        single.start()
        result["single_ready"] = single.wait_ready()
        if time.time() > due - 1:
            raise SystemExit("the node was not ready %.0f s before the grants fell due; raise --lead" % 1)
        reader = sqlite3.connect("file:%s?mode=ro" % database, uri=True)

        # A grant is refreshed in the round once its token set's last refresh is at or after the due instant.
        def single_done():
            return reader.execute("SELECT count(*) FROM token_sets WHERE last_refresh_at >= ?", (iso(due),)).fetchone()[0]

        sleep_until(due)
        cpu = cpu_seconds(single.pid)
        done = wait_refreshed(single_done, args.grants, due + args.timeout, "SQLite")
        first, last = reader.execute("SELECT min(last_refresh_at), max(last_refresh_at) FROM token_sets WHERE last_refresh_at >= ?", (iso(due),)).fetchone()
        reader.close()
        result["single"] = {
            "refreshed": done, "seconds": from_iso(last) - due, "first_after": from_iso(first) - due,
            "cpu": cpu_seconds(single.pid) - cpu, "vmhwm": proc_status(single.pid, "VmHWM"), "vmrss": proc_status(single.pid, "VmRSS"),
        }
        result["single"]["per_second"] = done / result["single"]["seconds"]
        status = single.stop()
        if status != 0:
            raise SystemExit("the SQLite node exited with %s: %s" % (status, single.log_tail()))
        counters.append(emulator.counters())
        result["single"]["counters"] = counter_delta(counters[-2], counters[-1])
        connection = sqlite3.connect("file:%s?mode=ro" % database, uri=True)
        result["single"]["invalid"] = connection.execute("SELECT count(*) FROM grants WHERE state <> 'valid'").fetchone()[0]
        result["single"]["alerts"] = connection.execute("SELECT count(*) FROM alerts").fetchone()[0]
        connection.close()
        log("   %d refreshed in %.2f s (%.0f/s), first after %.2f s; CPU %.1f s; VmHWM %.1f MiB; emulator %s" % (
            done, result["single"]["seconds"], result["single"]["per_second"], result["single"]["first_after"], result["single"]["cpu"],
            result["single"]["vmhwm"], result["single"]["counters"]))

        # 3. The same state into PostgreSQL, three nodes.
        log("== migrating the state to PostgreSQL ==")
        began = time.time()
        migration_config = os.path.join(single.directory, "migrate.toml")
        single.write_config(emulator.url, key, secret, window, path=migration_config, tls_only=True)
        migrated = subprocess.run([args.daemon, "--config", migration_config, "--migrate-to-postgresql",
                                   "postgresql://tenantsync@127.0.0.1:%d/tenantsync" % pg.port], capture_output=True, text=True)
        result["migrate_seconds"] = time.time() - began
        if migrated.returncode != 0:
            raise SystemExit("--migrate-to-postgresql exited %d: %s" % (migrated.returncode, migrated.stderr.strip()[-1500:]))
        log("   %.1f s" % result["migrate_seconds"])
        due = time.time() + args.lead
        pg.psql("tenantsync", "UPDATE token_sets SET next_refresh_at = to_timestamp(%.3f)" % due)
        pg.psql("postgres", "SELECT pg_stat_statements_reset()")
        daemons = [Daemon(args.daemon, os.path.join(work, "node-%d" % (i + 1)), "node-%d" % (i + 1)) for i in range(args.nodes)]
        log("== PostgreSQL, %d nodes: %d grants due at once ==" % (args.nodes, args.grants))
        for daemon in daemons:
            daemon.write_config(emulator.url, key, secret, window, database="tenantsync", lease_seconds=args.lease_seconds, pg_port=pg.port)
            daemon.start()
        result["cluster_ready"] = [daemon.wait_ready() for daemon in daemons]
        if time.time() > due - 1:
            raise SystemExit("the nodes were not ready a second before the grants fell due; raise --lead")

        def cluster_done(instant):
            return lambda: int(pg.value("tenantsync", "SELECT count(*) FROM token_sets WHERE last_refresh_at >= to_timestamp(%.3f)" % instant))

        sleep_until(due - 0.5)
        statements = pg.statements()
        transactions = pg.transactions()
        cpu = [cpu_seconds(daemon.pid) for daemon in daemons]
        done = wait_refreshed(cluster_done(due), args.grants, due + args.timeout, "cluster")
        statements_after = pg.statements()
        transactions_after = pg.transactions()
        first, last = pg.rows("tenantsync", "SELECT extract(epoch FROM min(last_refresh_at)), extract(epoch FROM max(last_refresh_at)) "
                                            "FROM token_sets WHERE last_refresh_at >= to_timestamp(%.3f)" % due)[0]
        total, top, top_time, server_ms = statement_delta(statements, statements_after)
        result["cluster"] = {
            "refreshed": done, "seconds": float(last) - due, "first_after": float(first) - due,
            "cpu": [cpu_seconds(daemon.pid) - before for daemon, before in zip(daemons, cpu)],
            "statements": total, "top": top, "top_time": top_time, "server_ms": server_ms, "transactions": transactions_after - transactions,
        }
        result["cluster"]["per_second"] = done / result["cluster"]["seconds"]
        counters.append(emulator.counters())
        result["cluster"]["counters"] = counter_delta(counters[-2], counters[-1])
        log("   %d refreshed in %.2f s (%.0f/s), first after %.2f s; %d statements (%.1f per refresh); CPU %s; emulator %s" % (
            done, result["cluster"]["seconds"], result["cluster"]["per_second"], result["cluster"]["first_after"], total,
            total / max(done, 1), " / ".join("%.1f" % c for c in result["cluster"]["cpu"]), result["cluster"]["counters"]))
        for calls, milliseconds, text in top:
            log("     %8d  %9.0f ms  %s" % (calls, milliseconds, text))
        log("   by server time (%.0f ms in all):" % server_ms)
        for calls, milliseconds, text in top_time:
            log("     %8d  %9.0f ms  %s" % (calls, milliseconds, text))

        # 4. Idle. The failover round's due instant is set now, more than the refresher's longest sleep (60 s) ahead,
        # so every node has looked at the store again and sleeps until exactly then.
        # Every grant, refreshed in the round or not (a round cut short by --timeout leaves some due).
        failover_due = time.time() + max(args.idle_seconds + 20, 75)
        pg.psql("tenantsync", "UPDATE token_sets SET next_refresh_at = to_timestamp(%.3f)" % failover_due)
        time.sleep(5)
        log("== idle: %d nodes, %d s, nothing due ==" % (args.nodes, args.idle_seconds))
        statements, cpu, began = pg.statements(), [cpu_seconds(daemon.pid) for daemon in daemons], time.time()
        time.sleep(args.idle_seconds)
        statements_after, elapsed = pg.statements(), time.time() - began
        total, top, _, server_ms = statement_delta(statements, statements_after, top=8)
        result["idle"] = {
            "seconds": elapsed, "statements": total, "per_second": total / elapsed, "top": top, "server_ms": server_ms,
            "cpu": [cpu_seconds(daemon.pid) - before for daemon, before in zip(daemons, cpu)],
            "vmhwm": [proc_status(daemon.pid, "VmHWM") for daemon in daemons], "vmrss": [proc_status(daemon.pid, "VmRSS") for daemon in daemons],
        }
        log("   %d statements in %.1f s: %.2f/s; CPU %s" % (total, elapsed, total / elapsed, " / ".join("%.2f" % c for c in result["idle"]["cpu"])))
        for calls, milliseconds, text in top:
            log("     %8d  %9.1f ms  %s" % (calls, milliseconds, text))

        # 5. Failover: every grant due; node-1 SIGKILLed while it refreshes.
        log("== failover: node-1 SIGKILLed %.0f s into a round of %d due grants ==" % (args.kill_after, args.grants))
        sleep_until(failover_due + args.kill_after)
        victim = daemons[0]
        # In the middle of its work: once it holds token-refresh leases (at most 10 s more).
        holding = "SELECT count(*) FROM leases WHERE kind = 'token-refresh' AND holder = '%s' AND expires_at > now()" % victim.name
        deadline = time.time() + 10
        while int(pg.value("tenantsync", holding)) == 0 and time.time() < deadline:
            time.sleep(0.1)
        victim.process.send_signal(signal.SIGKILL)
        killed = time.time()
        victim.process.wait()
        held = pg.rows("tenantsync", """
            SELECT l.key, l.epoch, extract(epoch FROM l.expires_at), ts.generation, (ts.next_refresh_at <= now())::int
            FROM leases l JOIN token_sets ts ON ts.grant_id = l.key::bigint
            WHERE l.kind = 'token-refresh' AND l.holder = '%s' AND l.expires_at > now()""" % victim.name)
        pending = [(row[0], int(row[3])) for row in held if row[4] == "1"]
        result["failover"] = {"held": len(held), "pending": len(pending),
                              "lease_expiry_after_kill": max((float(row[2]) - killed for row in held), default=0.0)}
        log("   node-1 held %d leases at the kill, %d of them not yet stored" % (len(held), len(pending)))
        if pending:
            condition = " OR ".join("(grant_id = %s AND generation > %d)" % (grant, generation) for grant, generation in pending)
            wait_refreshed(lambda: int(pg.value("tenantsync", "SELECT count(*) FROM token_sets WHERE %s" % condition)), len(pending),
                           killed + args.lease_seconds + 60, "failover")
            taken = pg.rows("tenantsync", "SELECT count(*), extract(epoch FROM max(last_refresh_at)) FROM token_sets WHERE %s" % condition)[0]
            result["failover"]["taken_over"] = int(taken[0])
            result["failover"]["seconds"] = float(taken[1]) - killed if taken[1] else float("nan")
            holders = pg.rows("tenantsync", "SELECT coalesce(holder, '-'), count(*) FROM leases WHERE kind = 'token-refresh' AND key IN (%s) GROUP BY 1"
                              % ",".join("'%s'" % grant for grant, _ in pending))
            result["failover"]["holders_after"] = dict(holders)
        done = wait_refreshed(cluster_done(failover_due), args.grants, killed + args.timeout, "failover round")
        last = pg.value("tenantsync", "SELECT extract(epoch FROM max(last_refresh_at)) FROM token_sets WHERE last_refresh_at >= to_timestamp(%.3f)" % failover_due)
        result["failover"]["round_refreshed"] = done
        result["failover"]["round_seconds"] = float(last) - failover_due
        counters.append(emulator.counters())
        result["failover"]["counters"] = counter_delta(counters[-2], counters[-1])
        result["failover"]["invalid"] = int(pg.value("tenantsync", "SELECT count(*) FROM grants WHERE state <> 'valid'"))
        result["failover"]["alerts"] = int(pg.value("tenantsync", "SELECT count(*) FROM alerts"))
        log("   taken over in %s s (lease expiry %.1f s after the kill); round of %d done %.1f s after it fell due; emulator %s" % (
            "%.1f" % result["failover"]["seconds"] if "seconds" in result["failover"] else "-", result["failover"]["lease_expiry_after_kill"],
            done, result["failover"]["round_seconds"], result["failover"]["counters"]))
        if args.ctl:
            nodes = subprocess.run([args.ctl, "--socket", os.path.join(daemons[1].directory, "control"), "nodes"], capture_output=True, text=True)
            result["failover"]["nodes"] = nodes.stdout.strip()
            log("   tenantsyncctl nodes (on node-2):\n" + nodes.stdout.rstrip())
        result["stop_status"] = [daemon.stop() for daemon in daemons[1:]]
        result["errors"] = {daemon.name: daemon.errors() for daemon in daemons}
        result["load_after"] = load()
        return result
    finally:
        for daemon in daemons:
            if daemon.process and daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait()
        if emulator:
            stop(emulator.process, 10)
        pg.stop()
        if args.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def table(r, command, machine, date, commit):
    single, cluster, idle, failover = r["single"], r["cluster"], r["idle"], r["failover"]
    lease = r["lease_seconds"]
    yes = lambda ok: "yes" if ok else "**no**"
    cut = lambda phase: "" if phase["refreshed"] >= r["grants"] else " (**round cut short** at --timeout %.0f s)" % r["timeout"]
    lines = [
        "Command: `%s`" % command,
        "",
        "Date: %s. Machine: %s. Binaries: release, commit %s. Load average (1/5/15 min) before the measured phases: %s; at the end: %s." % (
            date, machine, commit, r["load_before"], r["load_after"]),
        "",
        "State: %s tenants (2 accounts each), %s delegated grants, each consented at the emulator (strict refresh-token rotation); "
        "seeded through the store in %.0f s (not measured), moved to PostgreSQL by `tenantsyncd --migrate-to-postgresql` in %.1f s. "
        "Lease duration %d s%s. PostgreSQL 15 with its default settings (fsync on), `pg_stat_statements` preloaded." % (
            format(r["tenants"], ","), format(r["grants"], ","), r["seed"]["seedSeconds"], r["migrate_seconds"], lease, " (the default)" if lease == 30 else ""),
        "",
        "| measured | 1 node, SQLite | %d nodes, PostgreSQL | target | met? |" % r["nodes"],
        "| --- | ---: | ---: | --- | --- |",
        "| every grant due at once: refreshed / time to the last stored (s) | %s / %.2f%s | %s / %.2f%s |  |  |" % (
            format(single["refreshed"], ","), single["seconds"], cut(single), format(cluster["refreshed"], ","), cluster["seconds"], cut(cluster)),
        "| refreshes per second (cluster ÷ single) | %.0f | %.0f (%.2f×) |  |  |" % (
            single["per_second"], cluster["per_second"], cluster["per_second"] / single["per_second"]),
        "| first refresh stored after the due instant (s) | %.2f | %.2f |  |  |" % (single["first_after"], cluster["first_after"]),
        "| daemon CPU during the round (s) | %.1f | %s |  |  |" % (single["cpu"], " / ".join("%.1f" % c for c in cluster["cpu"])),
        "| second redemptions of a refresh token (emulator: reused / retried); redemptions | %d / %d; %s | %d / %d; %s | 0 / 0 | %s |" % (
            single["counters"]["reused"], single["counters"]["retried"], format(single["counters"]["refresh"], ","),
            cluster["counters"]["reused"], cluster["counters"]["retried"], format(cluster["counters"]["refresh"], ","),
            yes(single["counters"]["reused"] + single["counters"]["retried"] + cluster["counters"]["reused"] + cluster["counters"]["retried"] == 0)),
        "| PostgreSQL statements during the round (pg_stat_statements calls) / per refresh | | %s / %.1f |  |  |" % (
            format(cluster["statements"], ","), cluster["statements"] / max(cluster["refreshed"], 1)),
        "| PostgreSQL transactions during the round (pg_stat_database, this script's polling included) / per refresh | | %s / %.1f |  |  |" % (
            format(cluster["transactions"], ","), cluster["transactions"] / max(cluster["refreshed"], 1)),
        "| idle, nothing due, %.0f s: statements / per second (all nodes) | | %d / %.2f | ≤ 10 /s | %s |" % (
            idle["seconds"], idle["statements"], idle["per_second"], yes(idle["per_second"] <= TARGETS["idle_qps"])),
        "| idle CPU over the same time (s, per node) | | %s |  |  |" % " / ".join("%.2f" % c for c in idle["cpu"]),
        "| failover: SIGKILL of node-1 %.0f s into a round; its leases then / not yet stored | | %d / %d |  |  |" % (
            r["kill_after"], failover["held"], failover["pending"]),
        "| failover: kill until the last of those grants stored by another node (s) | | %s | ≤ %d (lease + 5 s) | %s |" % (
            "%.1f (%d of %d taken over)" % (failover["seconds"], failover["taken_over"], failover["pending"]) if "seconds" in failover else "—", lease + 5,
            yes("seconds" in failover and failover["taken_over"] == failover["pending"] and failover["seconds"] <= lease + TARGETS["failover_slack"])
            if failover["pending"] else "n/a (nothing held)"),
        "| failover: node-1's last lease ran out after the kill (s) | | %.1f |  |  |" % failover["lease_expiry_after_kill"],
        "| failover round: grants refreshed / from the due instant to the last (s); reused / retried | | %s of %s / %.1f%s; %d / %d | reused 0, retried ≤ %d | %s |" % (
            format(failover["round_refreshed"], ","), format(r["grants"], ","), failover["round_seconds"],
            "" if failover["round_refreshed"] >= r["grants"] else " (cut short at --timeout %.0f s after the kill)" % r["timeout"],
            failover["counters"]["reused"], failover["counters"]["retried"], failover["held"],
            yes(failover["counters"]["reused"] == 0 and failover["counters"]["retried"] <= failover["held"])),
        "| grants no longer valid / alerts raised, at the end | %d / %d | %d / %d | 0 / 0 | %s |" % (
            single["invalid"], single["alerts"], failover["invalid"], failover["alerts"],
            yes(single["invalid"] + single["alerts"] + failover["invalid"] + failover["alerts"] == 0)),
        "| peak RSS, VmHWM (MiB) | %.1f | %s |  |  |" % (single["vmhwm"], " / ".join("%.1f" % v for v in idle["vmhwm"])),
        "| RSS after the idle minute, VmRSS (MiB) | | %s |  |  |" % " / ".join("%.1f" % v for v in idle["vmrss"]),
        "| start-up to READY=1 (s) | %.2f | %s |  |  |" % (r["single_ready"], " / ".join("%.2f" % v for v in r["cluster_ready"])),
        "",
        "Statements the nodes issued most during the refresh round (calls, normalised text):",
        "",
    ]
    quote = lambda text: "`%s`" % text.replace("`", "'")
    lines += ["- %s calls, %.0f ms: %s" % (format(calls, ","), ms, quote(text)) for calls, ms, text in cluster["top"]]
    lines += ["", "Statements that took the server most time during the refresh round (%.0f ms of server time in all):" % cluster["server_ms"], ""]
    lines += ["- %.0f ms, %s calls: %s" % (ms, format(calls, ","), quote(text)) for calls, ms, text in cluster["top_time"]]
    lines += ["", "Statements the nodes issued most while idle:", ""]
    lines += ["- %s calls: %s" % (format(calls, ","), quote(text)) for calls, _, text in idle["top"]]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", required=True)
    parser.add_argument("--daemon", required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--ctl", help="tenantsyncctl, to list the nodes after the failover")
    parser.add_argument("--tenants", type=int, default=10000)
    parser.add_argument("--grants", type=int, default=30000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--lease-seconds", type=int, default=30)
    parser.add_argument("--idle-seconds", type=int, default=60)
    parser.add_argument("--kill-after", type=float, default=3.0, help="seconds into the failover round when node-1 is killed")
    parser.add_argument("--lead", type=float, default=20.0, help="seconds from a node's start to the instant every grant falls due")
    parser.add_argument("--timeout", type=float, default=600.0, help="longest wait for a round")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    parser.add_argument("--out", help="BENCHMARKS.md to write the Cluster table into (between its cluster-benchmark markers)")
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--command", default="bash Benchmarks/cluster.sh")
    parser.add_argument("--commit", default="unknown")
    args = parser.parse_args()

    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = run(args)
    result["kill_after"] = args.kill_after
    result["timeout"] = args.timeout
    text = table(result, args.command, machine_line(), date, args.commit)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    if args.out:
        write_marked_section(args.out, "cluster", text, heading="Cluster")


if __name__ == "__main__":
    main()
