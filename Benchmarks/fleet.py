"""Fleet benchmark: the real release tenantsyncd on a state of thousands of tenants.

Run through Benchmarks/fleet.sh (which builds first). Standard library only. Not a test.

Per fleet size (default 1,000 and 10,000 tenants), in a fresh temporary directory:
  1. `tenantsync-bench fleet-seed` writes the state through the store (SQLiteStore.seedFleet) into the
     daemon's state directory and counts the statements of one daily planning pass of the real SyncScheduler.
  2. The release `tenantsyncd` starts on it against a running emulator, with NOTIFY_SOCKET pointing at a
     datagram socket this script owns: start-up time is spawn to READY=1.
  3. `tenantsyncctl status`, `tenantsyncctl --json accounts` (the default page) and a walk of every page
     (`--after` the previous page's `next`) are timed as whole processes, several runs each: median and max.
  4. Metrics: `GET /metrics` on the daemon's `[metrics] listen` (a free loopback port), timed as the scraper sees
     it (wall until the last byte): the first scrape (every tenant read and written), then cold ones (more than the
     exporter's 5 s state cache apart, as Prometheus' 15 s interval always is), each after --churn tenants changed
     (their token rows rewritten with the same values: the store counts a change, the daemon has nothing to do),
     and warm (right after, served from the cache); size, series, the daemon's CPU per scrape.
  5. Idle CPU: utime + stime from /proc/PID/stat over --idle-seconds with nothing due; then the same with a scrape
     every 15 s, --churn tenants changed before each; then VmHWM and VmRSS.
  6. After SIGTERM the database is checked: no token refreshed, no run started, during the whole measurement.
"""
import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from bench_support import load, stop, write_marked_section

TARGETS = {"status": 0.100, "accounts": 1.0, "start": 5.0, "rss_mib": 200.0, "idle_cpu_percent": 1.0, "scrape": 0.200}
# PrometheusExporter's maximumStateAge: scrapes closer together than this are served from one state read.
SCRAPE_CACHE_SECONDS = 5


def log(message):
    print(message, file=sys.stderr, flush=True)


def proc_status(pid, field):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # KiB
    return -1


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # Fields after the command: state is index 0, so utime (14th field) is 11 and stime 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CLIENT_CPU = []  # CPU seconds (user + system) of every client process timed, in order
NICE = 0  # niceness of the measured processes (--nice), set in main()


def niced():
    if NICE:
        os.nice(NICE)


def timed(command):
    """Runs a client to completion: its wall time and stdout; its own CPU time goes to CLIENT_CPU."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=out, stderr=err, preexec_fn=niced)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    CLIENT_CPU.append(usage.ru_utime + usage.ru_stime)
    out.seek(0)
    err.seek(0)
    if process.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (" ".join(command), process.returncode, err.read().decode(errors="replace").strip()[-500:]))
    return elapsed, out.read().decode()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def touch_tenants(state, count):
    """Rewrites the token rows of `count` random tenants with their own values: what a live fleet's refreshes between
    two scrapes do to the store's change counts (at 40,000 one-hour tokens, about 170 grants per 15 s), without
    giving the daemon anything to do."""
    if count <= 0:
        return
    database = sqlite3.connect("%s/tenantsync.sqlite" % state, timeout=30)
    with database:
        database.execute(
            "UPDATE token_sets SET next_refresh_at = next_refresh_at WHERE grant_id IN ("
            " SELECT g.id FROM grants g JOIN service_accounts a ON a.id = g.account_id"
            " WHERE a.tenant_id IN (SELECT id FROM tenants ORDER BY random() LIMIT ?))", (count,))
    database.close()


def scrape(port):
    """One scrape as Prometheus makes it: wall time to the last byte, the body."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/metrics")
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise SystemExit("GET /metrics answered %d" % response.status)
    return elapsed, body


def wait_listening(port, deadline):
    while time.perf_counter() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the metrics endpoint never listened on port %d" % port)


def seed_state(args, tenants, config, state):
    """Seeds the state (or copies a seeded one from --seed-cache, seeding it there first if missing)."""
    cached = os.path.join(args.seed_cache, str(tenants)) if args.seed_cache else None
    if cached and os.path.exists(os.path.join(cached, "seed.out")):
        log("== %d tenants: copying the seeded state from %s ==" % (tenants, cached))
        shutil.copytree(os.path.join(cached, "state"), state)
        with open(os.path.join(cached, "seed.out")) as handle:
            return json.loads(handle.read().strip().splitlines()[-1])
    log("== %d tenants: seeding ==" % tenants)
    seeded_at = time.perf_counter()
    _, out = timed([args.bench, "fleet-seed", "--config", config, "--tenants", str(tenants)])
    seed = json.loads(out.strip().splitlines()[-1])
    log("   seeded in %.1f s (process %.1f s): %s" % (seed["seedSeconds"], time.perf_counter() - seeded_at, seed["counts"]))
    if cached:
        shutil.rmtree(cached, ignore_errors=True)
        os.makedirs(cached)
        shutil.copytree(state, os.path.join(cached, "state"))
        with open(os.path.join(cached, "seed.out"), "w") as handle:
            handle.write(out)
    return seed


def start_emulator(binary):
    process = subprocess.Popen([binary, "--port", "0", "--tenants", "1", "--users", "10", "--groups", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise SystemExit("the emulator did not start")
    return process, url



def measure(args, tenants, url):
    work = tempfile.mkdtemp(prefix="tsf-", dir="/tmp")  # short: Unix socket paths are limited to 108 bytes
    try:
        state = os.path.join(work, "state")
        control = os.path.join(work, "control")
        secret = os.path.join(work, "client-secret")
        with open(secret, "w") as handle:
            handle.write("emulator-client-secret")
        os.chmod(secret, 0o600)
        config = os.path.join(work, "tenantsyncd.toml")
        metrics_port = free_port()
        with open(config, "w") as handle:
            handle.write("""[daemon]
state_directory = "%s"
key_file = "%s/tenantsync.key"
control_socket = "%s"
log_target = "stderr"
shutdown_timeout = "10s"

[microsoft]
authority = "%s"
graph = "%s"
outlook = "%s/outlook"
client_secret_file = "%s"

[metrics]
listen = "127.0.0.1:%d"
""" % (state, state, control, url, url, url, secret, metrics_port))

        seed = seed_state(args, tenants, config, state)

        notify_path = os.path.join(work, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        environment = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC")}
        environment["NOTIFY_SOCKET"] = notify_path
        daemon_log = open(os.path.join(work, "tenantsyncd.log"), "w+")
        log("== %d tenants: starting tenantsyncd ==" % tenants)
        started = time.perf_counter()
        daemon = subprocess.Popen([args.daemon, "--config", config], env=environment, stdout=subprocess.DEVNULL, stderr=daemon_log,
                                  preexec_fn=niced)
        result = {"tenants": tenants, "seed": seed}
        try:
            notify.settimeout(60)
            while True:
                try:
                    message = notify.recv(4096).decode(errors="replace")
                except socket.timeout:
                    raise SystemExit("no READY=1 within 60 s")
                if "READY=1" in message.split("\n"):
                    break
            result["start"] = time.perf_counter() - started
            log("   READY=1 after %.3f s" % result["start"])
            ctl = [args.ctl, "--socket", control]

            # The first answer after READY=1, then the repetitions.
            result["status_first"], _ = timed(ctl + ["status"])
            # Besides wall time, the CPU each call costs: the client's own (wait4) and the daemon's (/proc, 10 ms ticks,
            # so averaged over the repetitions). On a loaded machine the wall time mostly waits for a CPU.
            daemon_cpu = cpu_seconds(daemon.pid)
            del CLIENT_CPU[:]
            result["status"] = [timed(ctl + ["status"])[0] for _ in range(args.repetitions)]
            result["status_client_cpu"] = statistics.median(CLIENT_CPU)
            result["status_daemon_cpu"] = (cpu_seconds(daemon.pid) - daemon_cpu) / args.repetitions
            result["accounts"] = []
            daemon_cpu = cpu_seconds(daemon.pid)
            del CLIENT_CPU[:]
            for _ in range(args.repetitions):
                elapsed, out = timed(ctl + ["--json", "accounts"])
                result["accounts"].append(elapsed)
                first_page = json.loads(out)
            result["accounts_client_cpu"] = statistics.median(CLIENT_CPU)
            result["accounts_daemon_cpu"] = (cpu_seconds(daemon.pid) - daemon_cpu) / args.repetitions
            result["accounts_page_size"] = len(first_page["accounts"])
            # The floor of any client call: the same binary starting and exiting without talking to the daemon.
            del CLIENT_CPU[:]
            result["ctl_version"] = [timed([args.ctl, "--version"])[0] for _ in range(args.repetitions)]
            result["ctl_version_cpu"] = statistics.median(CLIENT_CPU)

            def walk(extra):
                seen, pages, cursor = [], 0, None
                began = time.perf_counter()
                while True:
                    command = ctl + ["--json", "accounts"] + extra + (["--after", cursor] if cursor else [])
                    _, out = timed(command)
                    page = json.loads(out)
                    seen += [account["id"] for account in page["accounts"]]
                    pages += 1
                    cursor = page.get("next")
                    if not cursor:
                        break
                elapsed = time.perf_counter() - began
                if len(seen) != seed["counts"]["accounts"] or len(set(seen)) != len(seen):
                    raise SystemExit("the walk read %d accounts (%d distinct), the seed wrote %d" % (len(seen), len(set(seen)), seed["counts"]["accounts"]))
                return elapsed, pages

            walks = [walk([]) for _ in range(args.walk_repetitions)]
            result["walk"] = [elapsed for elapsed, _ in walks]
            result["walk_pages"] = walks[0][1]
            walks = [walk(["--limit", "10000"]) for _ in range(args.walk_repetitions)]
            result["walk_max"] = [elapsed for elapsed, _ in walks]
            result["walk_max_pages"] = walks[0][1]
            log("   status %s s; accounts %s s; walk %s s (%d pages); walk --limit 10000 %s s (%d pages)" % (
                "%.3f" % statistics.median(result["status"]), "%.3f" % statistics.median(result["accounts"]),
                "%.2f" % statistics.median(result["walk"]), result["walk_pages"], "%.2f" % statistics.median(result["walk_max"]),
                result["walk_max_pages"]))

            log("== %d tenants: scrapes ==" % tenants)
            wait_listening(metrics_port, time.perf_counter() + 30)
            churn = args.churn if args.churn is not None else round(seed["counts"]["grants"] / (3600 / 15))
            result["churn"] = churn
            cpu_before = cpu_seconds(daemon.pid)
            result["scrape_first"], _ = scrape(metrics_port)
            result["scrape_first_cpu"] = cpu_seconds(daemon.pid) - cpu_before
            cold, warm, cold_cpu = [], [], []
            for _ in range(args.scrapes):
                time.sleep(SCRAPE_CACHE_SECONDS + 0.5)  # past the exporter's state cache: the scrape reads the store
                touch_tenants(state, churn)
                cpu_before = cpu_seconds(daemon.pid)
                elapsed, body = scrape(metrics_port)
                cold_cpu.append(cpu_seconds(daemon.pid) - cpu_before)
                cold.append(elapsed)
                warm.append(scrape(metrics_port)[0])
            text = body.decode()
            result["scrape_cold"], result["scrape_warm"] = cold, warm
            result["scrape_daemon_cpu"] = statistics.mean(cold_cpu)
            result["scrape_bytes"] = len(body)
            result["scrape_series"] = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
            log("   scrape cold %.3f s median, warm %.3f s; %d bytes, %d series; daemon CPU %.3f s per cold scrape" % (
                statistics.median(cold), statistics.median(warm), len(body), result["scrape_series"], result["scrape_daemon_cpu"]))

            log("== %d tenants: idle for %d s ==" % (tenants, args.idle_seconds))
            cpu_before, idle_began = cpu_seconds(daemon.pid), time.perf_counter()
            time.sleep(args.idle_seconds)
            result["idle_cpu"] = cpu_seconds(daemon.pid) - cpu_before
            result["idle_seconds"] = time.perf_counter() - idle_began
            result["idle_cpu_percent"] = result["idle_cpu"] / result["idle_seconds"] * 100

            log("== %d tenants: idle for %d s with a scrape every 15 s ==" % (tenants, args.idle_seconds))
            cpu_before, idle_began = cpu_seconds(daemon.pid), time.perf_counter()
            scrapes = 0
            while True:
                due = idle_began + 15 * scrapes
                if due >= idle_began + args.idle_seconds:
                    break
                time.sleep(max(0, due - time.perf_counter()))
                touch_tenants(state, churn)
                scrape(metrics_port)
                scrapes += 1
            time.sleep(max(0, idle_began + args.idle_seconds - time.perf_counter()))
            result["scraped_idle_cpu"] = cpu_seconds(daemon.pid) - cpu_before
            result["scraped_idle_seconds"] = time.perf_counter() - idle_began
            result["scraped_idle_scrapes"] = scrapes
            result["scraped_idle_cpu_percent"] = result["scraped_idle_cpu"] / result["scraped_idle_seconds"] * 100
            result["vmhwm_mib"] = proc_status(daemon.pid, "VmHWM") / 1024
            result["vmrss_mib"] = proc_status(daemon.pid, "VmRSS") / 1024
            result["total_cpu"] = cpu_seconds(daemon.pid)
            log("   idle CPU %.3f s (%.3f %%), with scrapes %.3f s (%.3f %%), VmHWM %.1f MiB, VmRSS %.1f MiB" % (
                result["idle_cpu"], result["idle_cpu_percent"], result["scraped_idle_cpu"], result["scraped_idle_cpu_percent"],
                result["vmhwm_mib"], result["vmrss_mib"]))
        finally:
            status = stop(daemon)
            notify.close()
            daemon_log.seek(0)
            text = daemon_log.read()
            daemon_log.close()
        if status != 0:
            raise SystemExit("tenantsyncd exited with %s; its log ends:\n%s" % (status, text[-3000:]))
        result["daemon_errors"] = [line for line in text.splitlines() if " error " in line.lower() or "critical" in line.lower()][:5]

        # What the daemon did meanwhile, from its own database: nothing is the expected answer.
        database = sqlite3.connect("file:%s/tenantsync.sqlite?mode=ro" % state, uri=True)
        result["runs_after"] = database.execute("SELECT count(*) FROM sync_runs").fetchone()[0]
        result["refreshed_after"] = database.execute("SELECT count(*) FROM token_sets WHERE generation > 1 OR last_refresh_outcome != 'ok'").fetchone()[0]
        database.close()
        if result["runs_after"] != seed["counts"]["syncRuns"] or result["refreshed_after"] != 0:
            log("   WARNING: the daemon was not idle: %d runs (seeded %d), %d token sets refreshed or failed" % (
                result["runs_after"], seed["counts"]["syncRuns"], result["refreshed_after"]))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open("/proc/meminfo") as info:
        memory = int(info.readline().split()[1]) / 1024 / 1024
    return "%d CPUs (nproc), %s, %.1f GiB RAM, Linux %s" % (os.cpu_count(), model, memory, platform.release())



def ms(seconds):
    return "%.1f" % (seconds * 1000)


def table(results, command, machine_text, load_start, load_end, date):
    sizes = [r["tenants"] for r in results]
    last = results[-1]

    def row(name, values, target, met):
        return "| %s | %s | %s | %s |" % (name, " | ".join(values), target, met)

    def verdict(value, limit, below=True):
        return "yes" if (value <= limit if below else value < limit) else "**no**"

    lines = []
    lines.append("Command: `%s`" % command)
    lines.append("")
    lines.append("Date: %s. Machine: %s. Load average (1/5/15 min) at start: %s; at the end: %s.%s" % (
        date, machine_text, load_start, load_end,
        " tenantsyncd and tenantsyncctl ran at nice %d." % NICE if NICE else ""))
    lines.append("")
    lines.append("| measured | " + " | ".join("%s tenants" % format(n, ",") for n in sizes) + " | target | met at %s? |" % format(sizes[-1], ","))
    lines.append("| --- | " + " | ".join("---:" for _ in sizes) + " | --- | --- |")
    counts = lambda r: r["seed"]["counts"]
    lines.append(row("state: accounts / grants with tokens / sync runs / alerts",
                     ["%s / %s / %s / %s" % tuple(format(counts(r)[k], ",") for k in ("accounts", "tokenSets", "syncRuns", "alerts")) for r in results], "", ""))
    lines.append(row("database file (MiB)", ["%.0f" % (r["seed"]["databaseBytes"] / 1048576) for r in results], "", ""))
    lines.append(row("start-up: spawn to READY=1 (ms)", [ms(r["start"]) for r in results], "≤ 5,000", verdict(last["start"], TARGETS["start"])))
    lines.append(row("`tenantsyncctl status`, first call after READY=1 (ms)", [ms(r["status_first"]) for r in results], "", ""))
    lines.append(row("`tenantsyncctl status` median / max of %d (ms)" % len(last["status"]),
                     ["%s / %s" % (ms(statistics.median(r["status"])), ms(max(r["status"]))) for r in results], "≤ 100",
                     verdict(max(last["status"]), TARGETS["status"])))
    lines.append(row("`tenantsyncctl --json accounts`, default page (%s accounts), median / max of %d (ms)" % (
        format(last["accounts_page_size"], ","), len(last["accounts"])),
                     ["%s / %s" % (ms(statistics.median(r["accounts"])), ms(max(r["accounts"]))) for r in results], "≤ 1,000",
                     verdict(max(last["accounts"]), TARGETS["accounts"])))
    lines.append(row("CPU per call (ms): `status` client / daemon; `accounts` client / daemon",
                     ["%s / %s; %s / %s" % (ms(r["status_client_cpu"]), ms(r["status_daemon_cpu"]), ms(r["accounts_client_cpu"]),
                                            ms(r["accounts_daemon_cpu"])) for r in results], "", ""))
    lines.append(row("floor: `tenantsyncctl --version` (no daemon call), median / max (ms); its CPU (ms)",
                     ["%s / %s; %s" % (ms(statistics.median(r["ctl_version"])), ms(max(r["ctl_version"])), ms(r["ctl_version_cpu"])) for r in results], "", ""))
    lines.append(row("every account: walk of default pages (`--after next`), median / max of %d (ms)" % len(last["walk"]),
                     ["%s / %s (%d pages)" % (ms(statistics.median(r["walk"])), ms(max(r["walk"])), r["walk_pages"]) for r in results], "", ""))
    lines.append(row("every account: walk with `--limit 10000`, median / max of %d (ms)" % len(last["walk_max"]),
                     ["%s / %s (%d pages)" % (ms(statistics.median(r["walk_max"])), ms(max(r["walk_max"])), r["walk_max_pages"]) for r in results], "", ""))
    lines.append(row("`GET /metrics`, first (the endpoint read every tenant as it began to listen) (ms); daemon CPU (ms)",
                     ["%s; %s" % (ms(r["scrape_first"]), ms(r["scrape_first_cpu"])) for r in results], "", ""))
    lines.append(row("`GET /metrics`, cold (store read, %s tenants changed before each), median / max of %d (ms); daemon CPU per scrape (ms)" % (
        " / ".join(format(r["churn"], ",") for r in results), len(last["scrape_cold"])),
                     ["%s / %s; %s" % (ms(statistics.median(r["scrape_cold"])), ms(max(r["scrape_cold"])), ms(r["scrape_daemon_cpu"])) for r in results],
                     "≤ 200", verdict(max(last["scrape_cold"]), TARGETS["scrape"])))
    lines.append(row("`GET /metrics`, warm (within the 5 s state cache), median / max (ms)",
                     ["%s / %s" % (ms(statistics.median(r["scrape_warm"])), ms(max(r["scrape_warm"]))) for r in results], "", ""))
    lines.append(row("scrape size: bytes / series", ["%s / %s" % (format(r["scrape_bytes"], ","), format(r["scrape_series"], ",")) for r in results], "", ""))
    lines.append(row("peak RSS, VmHWM (MiB)", ["%.1f" % r["vmhwm_mib"] for r in results], "≤ 200", verdict(last["vmhwm_mib"], TARGETS["rss_mib"])))
    lines.append(row("RSS after the idle minute, VmRSS (MiB)", ["%.1f" % r["vmrss_mib"] for r in results], "≤ 200", verdict(last["vmrss_mib"], TARGETS["rss_mib"])))
    lines.append(row("idle CPU over %d s: utime+stime (s) / share (%%)" % round(last["idle_seconds"]),
                     ["%.2f / %.3f" % (r["idle_cpu"], r["idle_cpu_percent"]) for r in results], "< 1 %",
                     verdict(last["idle_cpu_percent"], TARGETS["idle_cpu_percent"], below=False)))
    lines.append(row("idle CPU over %d s with a scrape every 15 s (%d scrapes, the same tenants changed before each): utime+stime (s) / share (%%)" % (
        round(last["scraped_idle_seconds"]), last["scraped_idle_scrapes"]),
                     ["%.2f / %.3f" % (r["scraped_idle_cpu"], r["scraped_idle_cpu_percent"]) for r in results], "< 1 %",
                     verdict(last["scraped_idle_cpu_percent"], TARGETS["idle_cpu_percent"], below=False)))
    lines.append(row("one daily planning pass: SQL statements (one read of one query = %d)" % last["seed"]["oneQueryStatements"],
                     ["%d (%.1f ms, %d due)" % (r["seed"]["planStatements"], r["seed"]["planSeconds"] * 1000, r["seed"]["planDue"]) for r in results],
                     "independent of tenants", "yes" if len({r["seed"]["planStatements"] for r in results}) == 1 else "**no**"))
    lines.append(row("runs started / tokens refreshed while measured", ["%d / %d" % (r["runs_after"] - counts(r)["syncRuns"], r["refreshed_after"]) for r in results],
                     "0 / 0", "yes" if last["runs_after"] == counts(last)["syncRuns"] and last["refreshed_after"] == 0 else "**no**"))
    lines.append(row("seeding through the store (s; with `--seed-cache`, the run that filled the cache)",
                     ["%.1f" % r["seed"]["seedSeconds"] for r in results], "", ""))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", required=True)
    parser.add_argument("--daemon", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--tenants", default="1000,10000", help="comma-separated fleet sizes")
    parser.add_argument("--repetitions", type=int, default=9)
    parser.add_argument("--walk-repetitions", type=int, default=3)
    parser.add_argument("--scrapes", type=int, default=5, help="cold (and warm) metrics scrapes, 5.5 s apart")
    parser.add_argument("--churn", type=int, default=None,
                        help="tenants changed before each cold scrape (default: the grants refreshed in 15 s with one-hour tokens)")
    parser.add_argument("--seed-cache", help="reuse the seeded state of each size from this directory (seeded there when missing)")
    parser.add_argument("--idle-seconds", type=int, default=60)
    parser.add_argument("--out", help="BENCHMARKS.md to write the Fleet table into (between its fleet-benchmark markers)")
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--nice", type=int, default=0,
                        help="run tenantsyncd and tenantsyncctl at this niceness (e.g. -10 on a machine shared with builds)")
    parser.add_argument("--command", default="bash Benchmarks/fleet.sh")
    args = parser.parse_args()

    global NICE
    NICE = args.nice
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = load()
    emulator, url = start_emulator(args.emulator)
    try:
        results = [measure(args, int(n), url) for n in args.tenants.split(",")]
    finally:
        stop(emulator, 10)
    text = table(results, args.command, machine(), load_start, load(), date)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    if args.out:
        write_marked_section(args.out, "fleet", text, heading="Fleet")


if __name__ == "__main__":
    main()
