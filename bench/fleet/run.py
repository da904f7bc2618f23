"""site.yml over H lab hosts at once, the customer template's inventory shape, forks set as
Ansible users set them: wall time of the fresh converge and of the second run against the number
of hosts, each as a ratio to the 1-host point of the same run (bench/README.md, "Fleet").

    .venv/bin/python bench/fleet/run.py [--hosts 1,5,10,20] [--forks 5] [--stop-at 19:10]

For every point (H hosts, F forks) H fresh hosts are started (bench/converge/lab.py, as for the
converge benchmark: the lab image with Postfix and OpenDKIM purged, apt reading a local file
repository, Moodle's stand-in tree) and written into one inventory of the customer template's
shape; then `ansible-playbook site.yml --forks F` runs twice over all of them, timed: the fresh
converge, then the second run, which must change nothing on any host. The hosts are removed
after each point, and on a failure or an interrupt. Ansible's forks are the only parallelism:
the hosts are started one after the other, outside the timed runs. Results are written after
every point, so a run cut short keeps the points it finished.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]
from bench.converge.lab import (  # noqa: E402 - needs the path set above
    ensure_debs,
    load,
    moodle_standin,
    recap,
    remove_hosts,
    start_host,
    write_inventory,
)

HERE = pathlib.Path(__file__).resolve().parent


def numbers(text: str) -> list[int]:
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"positive integers separated by commas: {text!r}")
    return values


def points(hosts: list[int], forks: list[int]) -> list[tuple[int, int]]:
    """(H, F) in the order they run: by hosts, then by forks, the 1-host baseline first. Forks
    above H work as F = H would (no more workers than hosts), so of such pairs only the smallest
    F is measured."""
    pairs: dict[tuple[int, int], tuple[int, int]] = {}
    for h in hosts:
        for f in sorted(forks):
            pairs.setdefault((h, min(f, h)), (h, f))
    if 1 not in hosts:
        pairs[(1, 1)] = (1, min(forks))
    return sorted(pairs.values())


def snapshot(commit: str, directory: pathlib.Path) -> str:
    """The project at one commit, in a directory of its own: every point runs the same code while
    others keep editing the work tree. Returns the commit's full hash."""
    full = subprocess.run(
        ["git", "rev-parse", "--verify", f"{commit}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", full], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    return full


def site(source: pathlib.Path, inventory: pathlib.Path, forks: int, log_file: pathlib.Path) -> dict:
    load_before = load()
    env = dict(os.environ, ANSIBLE_CONFIG=str(source / "ansible.cfg"))
    started = time.monotonic()
    run = subprocess.run(
        ["ansible-playbook", "site.yml", "-i", str(inventory), "--forks", str(forks)],
        cwd=source, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    log_file.write_text(run.stdout + run.stderr)
    hosts = recap(run.stdout)
    return {
        "seconds": round(seconds, 1),
        "load_before": load_before,
        "load_after": load(),
        "returncode": run.returncode,
        "changed": sum(h.get("changed", 0) for h in hosts.values()),
        "failed": sum(h.get("failed", 0) + h.get("unreachable", 0) for h in hosts.values()),
        "hosts_changed": sum(1 for h in hosts.values() if h.get("changed")),
        "recap": hosts,
        "log": str(log_file),
    }


def point(
    result: dict, release: str, repo: pathlib.Path, work: pathlib.Path, source: pathlib.Path, save
) -> None:
    """Fills result ({"hosts": H, "forks": F}, already in the measured list) in place and saves it
    after the converge too, so that an interrupt during the second run keeps the converge."""
    hosts, forks = result["hosts"], result["forks"]
    names = [f"lmsmail-bench-fleet{n}" for n in range(1, hosts + 1)]
    try:
        started = time.monotonic()
        addresses = {}
        for name in names:
            addresses[name] = start_host(name, release, repo, f"{name.removeprefix('lmsmail-')}.school.test")
        moodle_standin(names)
        result["setup_seconds"] = round(time.monotonic() - started, 1)
        inventory = write_inventory(work / f"inventory-{hosts}x{forks}", addresses)
        print(
            f"H={hosts} F={forks}: {hosts} hosts up in {result['setup_seconds']} s; converge (load {load()})",
            flush=True,
        )
        converge = result["converge"] = site(source, inventory, forks, work / f"converge-{hosts}x{forks}.log")
        print(
            f"H={hosts} F={forks}: converge {converge['seconds']} s, rc {converge['returncode']}", flush=True
        )
        if converge["returncode"] != 0 or converge["failed"] or not set(names) <= set(converge["recap"]):
            result["error"] = f"the converge failed (log: {converge['log']})"
            return
        save()
        second = result["second"] = site(source, inventory, forks, work / f"second-{hosts}x{forks}.log")
        print(
            f"H={hosts} F={forks}: second run {second['seconds']} s, changed {second['changed']},"
            f" rc {second['returncode']}",
            flush=True,
        )
        if second["returncode"] != 0 or second["failed"] or second["changed"]:
            result["error"] = f"the second run failed or changed something (log: {second['log']})"
    except KeyboardInterrupt as stop:
        result["error"] = (
            f"interrupted ({stop or 'Ctrl-C'})"
            f" during the {'second run' if 'converge' in result else 'converge or the set-up'}"
        )
        raise
    finally:
        remove_hosts(names)


def with_ratios(measured: list[dict]) -> list[dict]:
    """Each point's wall times as ratios to the 1-host point of the same run, and what the
    linear strategy's arithmetic, ceil(H / F) x the 1-host time, expected."""
    base = next((p for p in measured if p["hosts"] == 1 and "error" not in p), None)
    for p in measured:
        rounds = math.ceil(p["hosts"] / p["forks"])
        p["rounds_of_forks"] = rounds
        for run in ("converge", "second"):
            if base and run in p and run in base:
                p[run]["ratio_to_1"] = round(p[run]["seconds"] / base[run]["seconds"], 2)
                p[run]["per_host_seconds"] = round(p[run]["seconds"] / p["hosts"], 1)
                p[run]["ceil_h_over_f_times_t1"] = round(rounds * base[run]["seconds"], 1)
    return measured


def cell(p: dict, run: str, key: str) -> str:
    value = p.get(run, {}).get(key)
    return "–" if value is None else str(value)


def loads(p: dict, run: str) -> str:
    if run not in p:
        return "–"
    return f"{p[run]['load_before']}–{p[run]['load_after']}"


def markdown(result: dict) -> str:
    lines = [
        "# Fleet: site.yml over H hosts at once",
        "",
        f"`{result['command']}` on {result['generated']}: {result['machine']['cpus']} CPUs,"
        f" {result['release']} containers, commit {result['commit'][:7]},"
        f" {len(result['points'])} of {len(result['points_planned'])} points measured;"
        f" the run took {result['duration_seconds']} s.",
        "",
        "| hosts | forks | converge wall s | ratio to 1 host | second run wall s | ratio to 1 host"
        " | second run s per host | changed (second run) | failed | load converge | load second run |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in result["points"]:
        failed = p.get("converge", {}).get("failed", 0) + p.get("second", {}).get("failed", 0)
        lines.append(
            f"| {p['hosts']} | {p['forks']} | {cell(p, 'converge', 'seconds')}"
            f" | {cell(p, 'converge', 'ratio_to_1')} | {cell(p, 'second', 'seconds')}"
            f" | {cell(p, 'second', 'ratio_to_1')} | {cell(p, 'second', 'per_host_seconds')}"
            f" | {cell(p, 'second', 'changed')} | {failed}"
            f" | {loads(p, 'converge')} | {loads(p, 'second')} |"
        )
    lines += [
        "",
        "The linear strategy's arithmetic, ceil(H / F) × the 1-host time of this run, against what was"
        " measured:",
        "",
        "| hosts | forks | ceil(H/F) | converge: expected / measured s | second run: expected / measured s |",
        "|---:|---:|---:|---|---|",
    ]
    for p in result["points"]:
        lines.append(
            f"| {p['hosts']} | {p['forks']} | {p['rounds_of_forks']}"
            f" | {cell(p, 'converge', 'ceil_h_over_f_times_t1')} / {cell(p, 'converge', 'seconds')}"
            f" | {cell(p, 'second', 'ceil_h_over_f_times_t1')} / {cell(p, 'second', 'seconds')} |"
        )
    errors = [f"- H={p['hosts']} F={p['forks']}: {p['error']}" for p in result["points"] if "error" in p]
    skipped = [f"- H={h} F={f}: {why}" for (h, f), why in result.get("skipped", {}).items()]
    if errors:
        lines += ["", "Failures:", "", *errors]
    if skipped:
        lines += ["", "Not run:", "", *skipped]
    return "\n".join(lines) + "\n"


def write(args, began: float, planned: list, measured: list[dict], skipped: dict) -> dict:
    result = {
        "benchmark": "fleet",
        "command": " ".join([".venv/bin/python bench/fleet/run.py", *sys.argv[1:]]),
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(time.monotonic() - began, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "release": args.release,
        "commit": args.commit,
        "points_planned": [list(p) for p in planned],
        "points": with_ratios(measured),
        "skipped": {f"{h},{f}": why for (h, f), why in skipped.items()},
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "fleet.json").write_text(json.dumps(result, indent=2) + "\n")
    render = dict(result, skipped=skipped)
    (args.results / "fleet.md").write_text(markdown(render))
    return render


def too_late(stop_at: datetime.datetime | None, hosts: int, forks: int, measured: list[dict]) -> str | None:
    """Whether the point is expected to end after --stop-at: the larger of ceil(H / F) times the
    1-host point's two runs (the linear strategy's arithmetic) and H times the largest measured
    point's time per host (a controller or cores that do not keep up), plus a minute a host to
    start them."""
    if stop_at is None:
        return None
    done = [p for p in measured if "second" in p]
    base = next((p for p in done if p["hosts"] == 1), None)
    if base is None:
        return None
    largest = max(done, key=lambda p: p["hosts"])

    def both(p: dict) -> float:
        return p["converge"]["seconds"] + p["second"]["seconds"]

    needed = max(math.ceil(hosts / forks) * both(base), hosts * both(largest) / largest["hosts"]) + 60 * hosts
    left = (stop_at - datetime.datetime.now(datetime.UTC)).total_seconds()
    if needed > left:
        return f"about {needed:.0f} s expected, {left:.0f} s left before --stop-at"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hosts", type=numbers, default=[1, 5, 10, 20], help="host counts (default 1,5,10,20)"
    )
    parser.add_argument(
        "--forks",
        type=numbers,
        default=[5],
        help="Ansible forks, e.g. 5,20 (default 5, Ansible's own default)",
    )
    parser.add_argument(
        "--commit", default="HEAD", help="the commit measured, from a copy (default HEAD, not the work tree)"
    )
    parser.add_argument("--release", default="bookworm", choices=["bookworm", "trixie"])
    parser.add_argument("--results", type=pathlib.Path, default=HERE.parent / "results")
    parser.add_argument(
        "--stop-at",
        help="HH:MM UTC: do not start a point that the arithmetic says ends after it (measured points stay)",
    )
    args = parser.parse_args()
    stop_at = None
    if args.stop_at:
        hour, minute = (int(v) for v in args.stop_at.split(":"))
        stop_at = datetime.datetime.now(datetime.UTC).replace(
            hour=hour, minute=minute, second=0, microsecond=0
        )
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)  # so that `kill` runs the finally clauses too
    began = time.monotonic()
    work = pathlib.Path(tempfile.gettempdir()) / "lmsmail-bench-fleet"
    work.mkdir(parents=True, exist_ok=True)
    source = work / "src"
    args.commit = snapshot(args.commit, source)
    repo = ensure_debs(args.release)
    planned = points(args.hosts, args.forks)
    measured: list[dict] = []
    skipped: dict[tuple[int, int], str] = {}
    try:
        for hosts, forks in planned:
            why = too_late(stop_at, hosts, forks, measured)
            if why:
                skipped[(hosts, forks)] = why
                print(f"H={hosts} F={forks}: not run: {why}", flush=True)
                continue
            measured.append({"hosts": hosts, "forks": forks})
            point(
                measured[-1],
                args.release,
                repo,
                work,
                source,
                lambda: write(args, began, planned, measured, skipped),
            )
            write(args, began, planned, measured, skipped)
            if hosts == 1 and "error" in measured[-1]:
                sys.exit(f"the 1-host baseline failed: {measured[-1]['error']}")
    except KeyboardInterrupt as stop:
        for hosts, forks in planned[len(measured) + len(skipped) :]:
            skipped[(hosts, forks)] = f"interrupted ({stop or 'Ctrl-C'})"
        write(args, began, planned, measured, skipped)
        raise SystemExit(f"interrupted: {stop}") from None
    result = write(args, began, planned, measured, skipped)
    print(markdown(result))
    if any("error" in p for p in measured):
        sys.exit("a point failed")


if __name__ == "__main__":
    main()
