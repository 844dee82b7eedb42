"""Drives the directory-sync benchmark: emulator, contenders, medians, table, BENCHMARKS.md.

Run through Benchmarks/run.sh (which builds everything first). Standard library only.

Every contender runs as a child process of its own, one process per repetition, with a fresh
SQLite file; the driver waits for it with wait4(), so the CPU time (user + system) is the child's
alone. Peak RSS is the VmHWM each contender reads from /proc/self/status just before it exits
(wait4's ru_maxrss would carry the driver's own RSS over fork/exec on Linux). Wall time is what the contender
reports for its sync (after its runtime has started: Python's imports are not counted against the
peers); the process's wall time from spawn to exit is recorded too.

Per repetition the contenders run one after another (full syncs in a rotating order so load
drifts spread evenly), then 1% of the users are changed through the emulator's admin API, then
each delta-capable contender runs its delta sync from the links its own full sync stored.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from bench_support import Admin, load, machine_line, stop, write_marked_section

HERE = os.path.dirname(os.path.abspath(__file__))




def start_emulator(binary, users, groups, seed):
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([binary, "--port", "0", "--tenants", "1", "--users", str(users), "--groups", str(groups),
                                "--seed", str(seed)], stdout=subprocess.PIPE, stderr=log, text=True)
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        log.seek(0)
        raise SystemExit("emulator did not start: %s" % log.read().decode()[-2000:])
    return process, url



def run_child(command, timeout, cwd=None):
    """Runs one contender; returns (result dict or None, error, rusage figures, process wall)."""
    started = time.perf_counter()
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd)
    deadline = started + timeout
    status, usage = None, None
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            process.returncode = -9
            err.seek(0)
            reached = [line for line in err.read().decode(errors="replace").splitlines() if line.startswith("progress ")]
            note = ""
            if reached:
                fields = dict(part.split("=") for part in reached[-1].split()[1:])
                note = " (%s objects written in %s s)" % (fields["objects"], fields["seconds"])
            return None, "timed out after %d s%s" % (timeout, note), {"cpu": usage.ru_utime + usage.ru_stime,
                                                                       "rss_mib": usage.ru_maxrss / 1024.0}, time.perf_counter() - started
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    measured = {"cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024.0}
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        tail = (stderr.strip().splitlines() or ["exit %d" % process.returncode])[-1]
        return None, "failed: " + tail[:200], measured, wall
    try:
        result = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, "failed: no result line", measured, wall
    # wait4's ru_maxrss carries the parent's RSS over fork/exec on Linux; VmHWM read by the child itself does not.
    if result.get("peakRSSKiB", -1) > 0:
        measured["rss_mib"] = result["peakRSSKiB"] / 1024.0
    return result, None, measured, wall


class Contender:
    def __init__(self, key, name, full_command, delta_command=None, timeout=900):
        self.key, self.name = key, name
        self.full_command, self.delta_command, self.timeout = full_command, delta_command, timeout
        self.full, self.delta, self.errors = [], [], []


def mutate_users(admin, tenant, user_ids, share, round_number):
    """Changes `share` of the users (display name and job title) through the admin API."""
    rng = random.Random(round_number)
    chosen = rng.sample(user_ids, max(1, int(len(user_ids) * share)))

    def change(uid):
        status, _ = admin.call("PATCH", "/_emulator/tenants/%s/users/%s" % (tenant, uid),
                               {"displayName": "Changed %d %s" % (round_number, uid[:8]), "jobTitle": "Round %d" % round_number})
        if status >= 300:
            raise RuntimeError("PATCH user answered %d" % status)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(change, chosen))
    return len(chosen)


def top_up_memberships(admin, tenant, user_ids, group_ids, current, target, seed):
    """Adds users to random groups until the tenant holds about `target` memberships."""
    missing = target - current
    if missing <= 0:
        return 0
    rng = random.Random(seed)
    pairs = [(group_ids[rng.randrange(len(group_ids))], user_ids[rng.randrange(len(user_ids))]) for _ in range(missing)]

    def add(chunk):
        added = 0
        for gid, uid in chunk:
            status, _ = admin.call("POST", "/_emulator/tenants/%s/groups/%s/members" % (tenant, gid), {"id": uid})
            if status < 300:
                added += 1
            elif status != 409 and status != 400:
                raise RuntimeError("adding a member answered %d" % status)
        return added

    chunks = [pairs[i::4] for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        return sum(pool.map(add, chunks))


def median(values):
    return statistics.median(values) if values else None




def run_size(args, users, groups, contenders_wanted, report):
    emulator, url = start_emulator(args.emulator, users, groups, args.seed)
    try:
        admin = Admin(url)
        _, tenants = admin.call("GET", "/_emulator/tenants")
        tenant = tenants[0]["id"]
        status, _ = admin.call("PATCH", "/_emulator/tenants/%s/settings" % tenant, {"throttlingEnabled": False})
        assert status == 200, status
        _, listed = admin.call("GET", "/_emulator/tenants/%s/users?limit=%d" % (tenant, users + 10))
        user_ids = [u["id"] for u in listed if u.get("state", "active") == "active"]
        _, listed_groups = admin.call("GET", "/_emulator/tenants/%s/groups" % tenant)
        group_ids = [g["id"] for g in listed_groups]
        # Count the generated memberships with one floor read, then top up to the wanted density.
        probe, error, _, _ = run_child([args.floor, url, tenant, "8"], 600)
        if probe is None:
            raise SystemExit("floor probe " + error)
        target = int(users * args.memberships_per_user)
        added = top_up_memberships(admin, tenant, user_ids, group_ids, probe["memberships"], target, args.seed)
        probe, error, _, _ = run_child([args.floor, url, tenant, "8"], 600)
        sizes = {"users": probe["users"], "groups": probe["groups"], "memberships": probe["memberships"],
                 "generated_memberships": probe["memberships"] - added, "added_memberships": added}
        print("emulator %s: %d users, %d groups, %d memberships (%d added through the admin API); throttling off; load %s"
              % (url, sizes["users"], sizes["groups"], sizes["memberships"], added, load()), file=sys.stderr, flush=True)

        work = tempfile.mkdtemp(prefix="tenantsync-bench-")
        py = args.python
        all_contenders = {
            "tenantsync": Contender("tenantsync", "tenantsync (Swift, SQLite)",
                                    lambda db: [args.bench, "sync", "full", "--url", url, "--tenant", tenant, "--db", db],
                                    lambda db: [args.bench, "sync", "delta", "--url", url, "--tenant", tenant, "--db", db],
                                    args.timeout),
            "peerA": Contender("peerA", "peer A: Python msgraph-sdk",
                               lambda db: [py, os.path.join(HERE, "peers", "peer_sdk.py"), "full", "--url", url, "--tenant", tenant, "--db", db],
                               lambda db: [py, os.path.join(HERE, "peers", "peer_sdk.py"), "delta", "--url", url, "--tenant", tenant, "--db", db],
                               args.peer_a_timeout),
            "peerB": Contender("peerB", "peer B: Python http.client + sqlite3",
                               lambda db: [py, os.path.join(HERE, "peers", "peer_plain.py"), "full", "--url", url, "--tenant", tenant, "--db", db],
                               lambda db: [py, os.path.join(HERE, "peers", "peer_plain.py"), "delta", "--url", url, "--tenant", tenant, "--db", db],
                               args.timeout),
            "floor": Contender("floor", "floor: C keep-alive reader, discards",
                               lambda db: [args.floor, url, tenant, "8"], None, args.timeout),
        }
        contenders = [all_contenders[k] for k in contenders_wanted]
        for rep in range(args.repetitions):
            order = contenders[rep % len(contenders):] + contenders[:rep % len(contenders)]
            dbs = {}
            for c in order:
                if c.key == "peerA" and rep >= args.peer_a_repetitions:
                    continue
                if c.errors and c.errors[-1].startswith("timed out"):
                    continue  # one timeout is enough to say so; do not spend the run on it again
                db = os.path.join(work, "%s-%d.sqlite" % (c.key, rep))
                result, error, measured, wall = run_child(c.full_command(db), c.timeout)
                if result is None:
                    c.errors.append(error)
                    print("  rep %d %s full: %s" % (rep + 1, c.key, error), file=sys.stderr, flush=True)
                    continue
                result.update(measured)
                result["process_wall"] = wall
                c.full.append(result)
                dbs[c.key] = db
                print("  rep %d %s full: %.3f s (process %.2f s), %d users, %d groups, %d memberships, RSS %.1f MiB, CPU %.2f s, load %s"
                      % (rep + 1, c.key, result["seconds"], wall, result["users"], result["groups"], result["memberships"],
                         measured["rss_mib"], measured["cpu"], load()), file=sys.stderr, flush=True)
            changed = mutate_users(admin, tenant, user_ids, 0.01, rep + 1)
            for c in order:
                if c.delta_command is None or c.key not in dbs:
                    continue
                result, error, measured, wall = run_child(c.delta_command(dbs[c.key]), c.timeout)
                if result is None:
                    c.errors.append("delta " + error)
                    print("  rep %d %s delta: %s" % (rep + 1, c.key, error), file=sys.stderr, flush=True)
                    continue
                result.update(measured)
                result["process_wall"] = wall
                c.delta.append(result)
                print("  rep %d %s delta (%d users changed): %.3f s (process %.2f s), RSS %.1f MiB"
                      % (rep + 1, c.key, changed, result["seconds"], wall, measured["rss_mib"]), file=sys.stderr, flush=True)
            for db in dbs.values():
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(db + suffix):
                        os.remove(db + suffix)
        shutil.rmtree(work, ignore_errors=True)
        report.append({"users": users, "groups": groups, "sizes": sizes, "load_end": load(), "contenders": [
            {"key": c.key, "name": c.name, "full": c.full, "delta": c.delta, "errors": c.errors, "repetitions_asked":
             min(args.repetitions, args.peer_a_repetitions) if c.key == "peerA" else args.repetitions} for c in contenders]})
    finally:
        stop(emulator, 10)


def proc_cpu_seconds(pid):
    """utime + stime of a running process, from /proc/PID/stat (fields 14 and 15, in clock ticks)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def daemon_idle(args, url, state):
    """The real tenantsyncd started on the state the tokens run left (its database, its key, N fresh grants):
    its CPU over --idle-seconds once it has started, and the refreshes the emulator saw meanwhile."""
    admin = Admin(url)
    _, tenants = admin.call("GET", "/_emulator/tenants")
    tenant = tenants[0]["id"]
    with open(os.path.join(state, "client-secret"), "w") as f:
        f.write("emulator-client-secret\n")
    # The daily window opens 12 h from now, so no scheduled sync falls into the measurement.
    window = time.gmtime(time.time() + 12 * 3600)
    config = os.path.join(state, "tenantsyncd.toml")
    with open(config, "w") as f:
        f.write('[daemon]\nstate_directory = "%s"\ncontrol_socket = "%s/control"\nlog_target = "stderr"\n\n'
                '[microsoft]\nauthority = "%s"\ngraph = "%s"\noutlook = "%s/outlook"\nclient_secret_file = "%s/client-secret"\n\n'
                '[sync]\ndaily_window_start = "%02d:%02d"\n' % (state, state, url, url, url, state, window.tm_hour, window.tm_min))
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([args.daemon, "--config", config], stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            log.seek(0)
            text = log.read().decode(errors="replace")
            if "tenantsyncd started" in text:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tenantsyncd did not start: %s" % (text.strip().splitlines() or ["no output"])[-1][:200])
            time.sleep(0.05)
        time.sleep(2)  # start-up work (the refresher's first look at the grants) is not idle time
        _, counters = admin.call("GET", "/_emulator/tenants/%s/counters" % tenant)
        refreshes_before = counters.get("token.refresh_token", 0)
        cpu_before, started = proc_cpu_seconds(process.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        cpu, elapsed = proc_cpu_seconds(process.pid) - cpu_before, time.monotonic() - started
        _, counters = admin.call("GET", "/_emulator/tenants/%s/counters" % tenant)
        rss = proc_status_kib(process.pid, "VmHWM")
        if process.poll() is not None:
            raise RuntimeError("tenantsyncd exited during the idle measurement")
        return {"daemonIdleSeconds": elapsed, "daemonIdleCPUSeconds": cpu, "daemonIdleCPUPercent": cpu / elapsed * 100,
                "daemonRefreshesDuringIdle": counters.get("token.refresh_token", 0) - refreshes_before, "daemonPeakRSSKiB": rss}
    finally:
        stop(process, 30)


def run_tokens(args):
    """Token refresh of N grants due at once, then idle CPU, each repetition on a fresh emulator and store."""
    runs, errors = [], []
    for rep in range(args.token_repetitions):
        emulator, url = start_emulator(args.emulator, 5, 1, args.seed)
        work = tempfile.mkdtemp(prefix="tenantsync-tokens-")
        try:
            result, error, measured, wall = run_child(
                [args.bench, "tokens", "--url", url, "--dir", work, "--grants", str(args.grants),
                 "--idle-seconds", str(args.idle_seconds), "--max-in-flight", str(args.max_in_flight)],
                args.token_timeout + args.idle_seconds)
            if result is not None and args.daemon:
                try:
                    result.update(daemon_idle(args, url, work))
                except (RuntimeError, OSError) as failure:
                    errors.append("daemon idle: %s" % failure)
        finally:
            stop(emulator, 10)
            shutil.rmtree(work, ignore_errors=True)
        if result is None:
            errors.append(error)
            print("  tokens rep %d: %s" % (rep + 1, error), file=sys.stderr, flush=True)
            if error.startswith("timed out"):
                break  # said once is enough: a hang does not get faster
            continue
        runs.append(result)
        print("  tokens rep %d: %d refreshes in %.2f s (%.0f/s), peak in flight %d (sampled %d, bound %d), idle CPU %.3f s over %.0f s "
              "(%.2f%%), load %s" % (rep + 1, result["emulatorRefreshRequests"], result["seconds"], result["refreshesPerSecond"],
                                   result["peakInFlight"], result["sampledPeakInFlight"], result["maxInFlightBound"],
                                   result["idleCPUSeconds"], result["idleSeconds"], result["idleCPUPercent"], load()),
              file=sys.stderr, flush=True)
        if "daemonIdleCPUSeconds" in result:
            print("  tokens rep %d: tenantsyncd idle CPU %.3f s over %.0f s (%.3f%%), %d refreshes while idle, VmHWM %.1f MiB"
                  % (rep + 1, result["daemonIdleCPUSeconds"], result["daemonIdleSeconds"], result["daemonIdleCPUPercent"],
                     result["daemonRefreshesDuringIdle"], result["daemonPeakRSSKiB"] / 1024.0), file=sys.stderr, flush=True)
    return {"runs": runs, "errors": errors, "asked": args.token_repetitions}


def tokens_table(tokens):
    runs = tokens["runs"]
    lines = ["### Token refresh", ""]
    if not runs:
        lines += ["Not measured: %s" % "; ".join(tokens["errors"] or ["skipped"]), ""]
        return lines
    r0 = runs[0]
    lines.append("%d delegated Graph grants (one account, each consented with its own authorization-code flow), all due at "
                 "once, refreshed by the real `TokenRefresher` (bound: %d in flight) against the emulator; then the same "
                 "process idles %d s with the %d grants (nothing due for about an hour). Runs: %d/%d%s."
                 % (r0["grants"], r0["maxInFlightBound"], round(r0["idleSeconds"]), r0["grants"], len(runs), tokens["asked"],
                    ("; " + "; ".join(tokens["errors"])) if tokens["errors"] else ""))
    lines.append("")
    lines.append("| refresh all (s) | refreshes/s | max in flight (refresher / 1 ms sampler / bound) | refresh requests seen by the emulator "
                 "| idle CPU over %d s (s) | idle CPU (%%) | refreshes while idle | peak RSS (MiB) |" % round(r0["idleSeconds"]))
    lines.append("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    lines.append("| %.2f | %.0f | %d / %d / %d | %d | %.3f | %.3f | %d | %.1f |" % (
        median([r["seconds"] for r in runs]), median([r["refreshesPerSecond"] for r in runs]),
        max(r["peakInFlight"] for r in runs), max(r["sampledPeakInFlight"] for r in runs), r0["maxInFlightBound"],
        median([r["emulatorRefreshRequests"] for r in runs]), median([r["idleCPUSeconds"] for r in runs]),
        median([r["idleCPUPercent"] for r in runs]), max(r["refreshesDuringIdle"] for r in runs),
        median([r["peakRSSKiB"] for r in runs]) / 1024.0))
    lines.append("")
    daemon_runs = [r for r in runs if "daemonIdleCPUSeconds" in r]
    if daemon_runs:
        lines.append("The whole daemon, idle: the real `tenantsyncd` (release) started on the database those runs left (the %d "
                     "refreshed grants, nothing due for about an hour, the daily window 12 h away; outside systemd, so no watchdog "
                     "pings), its CPU time read from /proc/PID/stat (10 ms ticks) over %d s after its start-up. Runs: %d." % (r0["grants"], round(daemon_runs[0]["daemonIdleSeconds"]), len(daemon_runs)))
        lines.append("")
        lines.append("| tenantsyncd idle CPU over %d s (s) | idle CPU (%%) | refreshes while idle | peak RSS (MiB) |"
                     % round(daemon_runs[0]["daemonIdleSeconds"]))
        lines.append("| ---: | ---: | ---: | ---: |")
        lines.append("| %.3f | %.3f | %d | %.1f |" % (
            median([r["daemonIdleCPUSeconds"] for r in daemon_runs]), median([r["daemonIdleCPUPercent"] for r in daemon_runs]),
            max(r["daemonRefreshesDuringIdle"] for r in daemon_runs), median([r["daemonPeakRSSKiB"] for r in daemon_runs]) / 1024.0))
        lines.append("")
    return lines


def fmt(value, pattern):
    return "—" if value is None else pattern % value


def table(report, command, machine, load_start, tokens=None):
    lines = ["Command: `%s`" % command, "", "Machine: %s. Load average (1/5/15 min) at start: %s." % (machine, load_start), ""]
    for size in report:
        s = size["sizes"]
        lines.append("### %d users, %d groups, %d memberships" % (s["users"], s["groups"], s["memberships"]))
        lines.append("")
        lines.append("Generated by `tenantsync-emulator --users %d --groups %d --seed 7` (%d memberships), topped up to about "
                     "%d through the admin API; throttling disabled for the benchmark. Load average at the end: %s."
                     % (size["users"], size["groups"], s["generated_memberships"], s["memberships"], size["load_end"]))
        lines.append("")
        lines.append("| contender | full sync (s) | users/s | peak RSS (MiB) | CPU (s) | process wall (s) | delta after 1% changed (s) | "
                     "tenantsync time ÷ this | runs |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        ts = next((c for c in size["contenders"] if c["key"] == "tenantsync"), None)
        ts_full = median([r["seconds"] for r in ts["full"]]) if ts else None
        ts_delta = median([r["seconds"] for r in ts["delta"]]) if ts else None
        for c in size["contenders"]:
            full = median([r["seconds"] for r in c["full"]])
            delta = median([r["seconds"] for r in c["delta"]])
            users = median([r["users"] for r in c["full"]])
            rss = median([r["rss_mib"] for r in c["full"]])
            cpu = median([r["cpu"] for r in c["full"]])
            wall = median([r["process_wall"] for r in c["full"]])
            ratio = "—"
            if c["key"] != "tenantsync" and full and ts_full:
                ratio = "%.3f (%.1f× %s)" % (ts_full / full, max(full / ts_full, ts_full / full),
                                             "faster" if ts_full <= full else "slower")
                if delta and ts_delta:
                    ratio += "; delta %.3f" % (ts_delta / delta)
            timed_out = [e for e in c["errors"] if e.startswith("timed out after")]
            if not full and timed_out and ts_full:
                limit = float(timed_out[0].split()[3])
                ratio = "< %.4f (more than %.0f× faster: timed out)" % (ts_full / limit, limit / ts_full)
            runs = "%d/%d" % (len(c["full"]), c["repetitions_asked"])
            if c["errors"]:
                runs += "; " + "; ".join(sorted(set(c["errors"])))
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                c["name"], fmt(full, "%.3f"), fmt(users / full if full and users else None, "%.0f"), fmt(rss, "%.1f"),
                fmt(cpu, "%.2f"), fmt(wall, "%.2f"), fmt(delta, "%.3f") if c["key"] != "floor" else "n/a", ratio, runs))
        lines.append("")
    if tokens is not None:
        lines += tokens_table(tokens)
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--emulator", required=True)
    p.add_argument("--bench", required=True)
    p.add_argument("--floor", required=True)
    p.add_argument("--python", required=True)
    p.add_argument("--users", type=int, default=20000)
    p.add_argument("--groups", type=int, default=2000)
    p.add_argument("--big-users", type=int, default=100000)
    p.add_argument("--big-groups", type=int, default=10000)
    p.add_argument("--memberships-per-user", type=float, default=3.0)
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--peer-a-repetitions", type=int, default=3)
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--peer-a-timeout", type=int, default=1800)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skip-big", action="store_true")
    p.add_argument("--skip-tokens", action="store_true")
    p.add_argument("--grants", type=int, default=10000)
    p.add_argument("--idle-seconds", type=int, default=60)
    p.add_argument("--max-in-flight", type=int, default=32)
    p.add_argument("--token-repetitions", type=int, default=3)
    p.add_argument("--token-timeout", type=int, default=300)
    p.add_argument("--daemon", default="", help="tenantsyncd binary: also measure the whole daemon idle on the tokens run's state")
    p.add_argument("--only", default="", help="comma-separated contenders for the side-by-side size")
    p.add_argument("--skip-reason", default="", help="why contenders left out by --only were not run (printed in the table)")
    p.add_argument("--command", default="bash Benchmarks/run.sh")
    p.add_argument("--out", default="")
    p.add_argument("--json", default="")
    args = p.parse_args()

    machine, load_start = machine_line(), load()
    report = []
    tokens = None
    if not args.skip_tokens:
        tokens = run_tokens(args)
    side = [k for k in (args.only.split(",") if args.only else ["tenantsync", "peerA", "peerB", "floor"])]
    run_size(args, args.users, args.groups, side, report)
    if not args.skip_big:
        run_size(args, args.big_users, args.big_groups, [k for k in ["tenantsync", "floor"] if k in side or not args.only], report)
    section = table(report, args.command, machine, load_start, tokens)
    names = {"tenantsync": "tenantsync", "peerA": "peer A (Python msgraph-sdk)", "peerB": "peer B (plain Python)", "floor": "the floor"}
    left_out = [names[k] for k in names if k not in side]
    if left_out:
        # A contender left out is said so in the table, never silently dropped.
        section += "\nNot run in this invocation: %s (--only %s)%s.\n" % (
            ", ".join(left_out), args.only, ": " + args.skip_reason if args.skip_reason else "")
    if args.skip_tokens:
        section += "\nToken refresh not measured in this invocation (--skip-tokens).\n"
    print(section)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "load_start": load_start, "report": report, "tokens": tokens}, f, indent=1)
    if args.out:
        write_marked_section(args.out, "directory-sync", "## Directory sync side by side\n\n" + section)


if __name__ == "__main__":
    main()
