"""The second run of site.yml on a converged host: changed=0, wall time per host, and what it
spends, by play and by task (ansible.posix.profile_tasks) (bench/README.md, "Second run").

    .venv/bin/python bench/rerun/run.py [--host lmsmail-bench-site2] [--runs 2]

With --host, a host bench/converge/run.py --keep left converged, run with the inventory that
converged it (a new one would make the records file written on the controller name another
inventory, a change the host did not make); without, a fresh host is started and converged
first (not timed). Then site.yml runs --runs times more with the customer template's inventory
shape, each timed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

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
STAMP = re.compile(r"\((\d+):(\d+):(\d+\.\d+)\)\s+\d+:\d+:\d+\.\d+\s*\**\s*$")
FACTS = re.compile(r"^(Gathering Facts|Read what the host is)")


def site(inventory: pathlib.Path, profile: bool) -> tuple[float, str]:
    env = dict(os.environ)
    if profile:
        env.update(
            ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="all"
        )
    started = time.monotonic()
    run = subprocess.run(
        ["ansible-playbook", "site.yml", "-i", str(inventory)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"site.yml failed:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")
    return seconds, run.stdout


def spent(output: str) -> list[dict]:
    """Each task's time, from profile_tasks' stamp after every banner: the time in brackets is how
    long the task before it took."""
    tasks, play, task = [], None, None
    for line in output.splitlines():
        if line.startswith("PLAY [") and not line.startswith("PLAY RECAP"):
            play = line[6:].split("]", 1)[0]
            continue
        stamp = STAMP.search(line)
        if stamp and task is not None:
            hours, minutes, seconds = stamp.groups()
            elapsed = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
            tasks.append({"play": task[0], "task": task[1], "seconds": round(elapsed, 2)})
            task = None
        if line.startswith("TASK ["):
            task = (play, line[6:].rsplit("]", 1)[0])
    return tasks


def categories(tasks: list[dict]) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in tasks:
        if FACTS.match(t["task"]):
            kind = "fact gathering (setup)"
        elif t["play"].startswith("Preflight"):
            kind = "preflight (validation)"
        else:
            kind = f"play: {t['play']}"
        out[kind] = round(out.get(kind, 0) + t["seconds"], 2)
    return dict(sorted(out.items(), key=lambda x: -x[1]))


def markdown(result: dict) -> str:
    lines = [
        "# Second run of site.yml",
        "",
        f"`{result['command']}` on {result['generated']}: {result['machine']['cpus']} CPUs, one host"
        f" ({result['release']}), the customer template's inventory shape; the whole run took"
        f" {result['duration_seconds']} s.",
        "",
        "| run | wall s | changed | load avg (1 min) before–after |",
        "|---|---:|---:|---|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['run']} | {r['seconds']} | {r['recap'].get('changed')} |"
            f" {r['load_before']}–{r['load_after']} |"
        )
    last = result["runs"][-1]
    lines += [
        "",
        f"Median wall time per host: **{result['seconds_median']} s** (aim ≤ 30 s); changed in every run:"
        f" {[r['recap'].get('changed') for r in result['runs']]}.",
        "",
        "Where the last run's time goes (sum of task times, profile_tasks):",
        "",
        "| part | s |",
        "|---|---:|",
        *[f"| {k} | {v} |" for k, v in last["categories"].items()],
        "",
        "Its 15 longest tasks:",
        "",
        "| play | task | s |",
        "|---|---|---:|",
        *[
            f"| {t['play']} | {t['task']} | {t['seconds']} |"
            for t in sorted(last["tasks"], key=lambda t: -t["seconds"])[:15]
        ],  # fmt: skip
    ]
    return "\n".join(lines) + "\n"


def converge_inventory(host: str) -> pathlib.Path | None:
    """The inventory bench/converge/run.py converged this host with: a second run is the same
    command again. With a new inventory the records file it writes on the controller names
    another inventory and is rewritten (changed=1) while the host changes nothing."""
    converge = pathlib.Path(tempfile.gettempdir()) / "lmsmail-bench-converge"
    for inventory in sorted(converge.glob("inventory*[0-9]")):
        hosts = inventory / "hosts.yml"
        if hosts.is_file() and host in yaml.safe_load(hosts.read_text())["moodle"]["hosts"]:
            return inventory
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--host", help="a host bench/converge/run.py --keep left converged (else one is made)"
    )
    parser.add_argument("--runs", type=int, default=2, help="timed runs after the first (default 2)")
    parser.add_argument("--release", default="bookworm", choices=["bookworm", "trixie"])
    parser.add_argument("--results", type=pathlib.Path, default=HERE.parent / "results")
    parser.add_argument("--keep", action="store_true", help="leave the host afterwards")
    args = parser.parse_args()
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    began = time.monotonic()
    work = pathlib.Path(tempfile.gettempdir()) / "lmsmail-bench-rerun"
    host = args.host or "lmsmail-bench-rerun"
    runs = []
    try:
        if args.host:
            inventory = converge_inventory(host)
            if inventory is None:
                sys.exit(f"{host}: no inventory of bench/converge/run.py --keep holds it")
        else:
            address = start_host(host, args.release, ensure_debs(args.release), "bench-rerun.school.test")
            moodle_standin([host])
            inventory = write_inventory(work / "inventory", {host: address})
            print(f"first converge: {site(inventory, profile=False)[0]:.0f} s", flush=True)
        for number in range(1, args.runs + 1):
            load_before = load()
            seconds, output = site(inventory, profile=True)
            tasks = spent(output)
            runs.append({
                "run": number, "seconds": round(seconds, 1), "load_before": load_before, "load_after": load(),
                "recap": recap(output).get(host, {}), "categories": categories(tasks), "tasks": tasks,
            })  # fmt: skip
            print(f"run {number}: {seconds:.0f} s, {runs[-1]['recap']}", flush=True)
    finally:
        if not args.keep:
            remove_hosts([host])
    result = {
        "benchmark": "rerun",
        "command": " ".join([".venv/bin/python bench/rerun/run.py", *sys.argv[1:]]),
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(time.monotonic() - began, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "release": args.release,
        "runs": runs,
        "seconds_median": round(statistics.median(r["seconds"] for r in runs), 1),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "rerun.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "rerun.md").write_text(markdown(result))
    print(markdown(result))
    if any(r["recap"].get("changed") for r in runs):
        sys.exit("a second run changed something")


if __name__ == "__main__":
    main()
