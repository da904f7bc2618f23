"""A fresh converge of site.yml against the floor: the same packages installed by apt-get alone in
an identical container, interleaved, the ratio from side-by-side runs (bench/README.md,
"Fresh converge").

    .venv/bin/python bench/converge/run.py [--rounds 2] [--keep]

Each round starts two fresh lab hosts (bench/converge/lab.py: the lab image with Postfix and
OpenDKIM purged, apt reading a local file repository of their .deb files, Moodle's stand-in
tree). On one, `apt-get install` of the packages the roles install (the floor); on the other,
`ansible-playbook site.yml` with an inventory of the customer template's shape (records printed,
dns_provider none). The order alternates between rounds. The converged host of the last round
can be kept (--keep) for bench/rerun/run.py --host.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]
from bench.converge.lab import (  # noqa: E402 - needs the path set above
    ROLE_PACKAGES,
    ensure_debs,
    load,
    moodle_standin,
    podman,
    recap,
    remove_hosts,
    start_host,
    write_inventory,
)

HERE = pathlib.Path(__file__).resolve().parent


def floor(host: str) -> dict:
    load_before = load()
    started = time.monotonic()
    run = podman(
        "exec", "-e", "DEBIAN_FRONTEND=noninteractive", host,
        "apt-get", "install", "-y", "-q", *ROLE_PACKAGES, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"apt-get install failed on {host}:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return {"seconds": round(seconds, 1), "load_before": load_before, "load_after": load()}


def converge(host: str, inventory: pathlib.Path, log_file: pathlib.Path) -> dict:
    load_before = load()
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_roles")
    started = time.monotonic()
    run = subprocess.run(
        ["ansible-playbook", "site.yml", "-i", str(inventory)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    log_file.write_text(run.stdout + run.stderr)
    if run.returncode != 0:
        raise SystemExit(f"site.yml failed on {host} (log: {log_file}):\n{run.stdout[-3000:]}")
    return {
        "seconds": round(seconds, 1),
        "load_before": load_before,
        "load_after": load(),
        "recap": recap(run.stdout).get(host),
        "roles_seconds": roles_spent(run.stdout),
    }


def roles_spent(output: str) -> dict[str, float]:
    """ansible.posix.profile_roles' recap: 'moodle ------ 490.53s' -> {'moodle': 490.53}."""
    roles = {}
    for line in output.split("ROLES RECAP", 1)[-1].splitlines():
        parts = line.split()
        if len(parts) == 3 and set(parts[1]) == {"-"} and parts[2].endswith("s") and parts[0] != "total":
            roles[parts[0]] = float(parts[2].rstrip("s"))
    return roles


def markdown(result: dict) -> str:
    lines = [
        "# Fresh converge against the floor",
        "",
        f"`{result['command']}` on {result['generated']}: {result['machine']['cpus']} CPUs,"
        f" {result['release']} containers, {len(result['rounds'])} of"
        f" {result.get('rounds_planned', len(result['rounds']))} rounds;"
        f" the run took {result['duration_seconds']} s.",
        "",
        "| round | first | floor: apt-get install, s | site.yml, s | ratio"
        " | load avg (1 min) floor / site.yml |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in result["rounds"]:
        lines.append(
            f"| {r['round']} | {r['first']} | {r['floor']['seconds']} | {r['converge']['seconds']} | "
            f"{r['ratio']} | {r['floor']['load_before']}–{r['floor']['load_after']} / "
            f"{r['converge']['load_before']}–{r['converge']['load_after']} |"
        )
    lines += [
        "",
        f"Ratio site.yml / floor: median **{result['ratio_median']}** (each round's own pair);"
        f" site.yml minus the floor: {result['overhead_median_seconds']} s.",
        "",
        "Time by role in the last round (ansible.posix.profile_roles):",
        "",
        "| role | s |",
        "|---|---:|",
    ]
    for role, seconds in sorted(
        result["rounds"][-1]["converge"]["roles_seconds"].items(), key=lambda x: -x[1]
    ):
        lines.append(f"| {role} | {seconds} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=2, help="pairs of runs, the order alternating (default 2)"
    )
    parser.add_argument("--release", default="bookworm", choices=["bookworm", "trixie"])
    parser.add_argument("--results", type=pathlib.Path, default=HERE.parent / "results")
    parser.add_argument(
        "--keep", action="store_true", help="keep the last round's converged host (for bench/rerun)"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only write converge.md again from converge.json and the runs' logs",
    )
    args = parser.parse_args()
    work = pathlib.Path(tempfile.gettempdir()) / "lmsmail-bench-converge"
    if args.render:
        result = json.loads((args.results / "converge.json").read_text())
        for r in result["rounds"]:
            log = work / f"site{r['round']}.log"
            if not r["converge"]["roles_seconds"] and log.exists():
                r["converge"]["roles_seconds"] = roles_spent(log.read_text())
        (args.results / "converge.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.results / "converge.md").write_text(markdown(result))
        return
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    began = time.monotonic()
    repo = ensure_debs(args.release)
    work.mkdir(parents=True, exist_ok=True)
    rounds = []
    for number in range(1, args.rounds + 1):
        floor_host, site_host = f"lmsmail-bench-floor{number}", f"lmsmail-bench-site{number}"
        try:
            addresses = {h: start_host(h, args.release, repo, f"{h.removeprefix('lmsmail-')}.school.test")
                         for h in (floor_host, site_host)}  # fmt: skip
            moodle_standin([floor_host, site_host])
            inventory = write_inventory(work / f"inventory{number}", {site_host: addresses[site_host]})
            order = ["floor", "site.yml"] if number % 2 else ["site.yml", "floor"]
            figures = {}
            for kind in order:
                print(f"round {number}: {kind} (load {load()})", flush=True)
                if kind == "floor":
                    figures["floor"] = floor(floor_host)
                else:
                    figures["converge"] = converge(site_host, inventory, work / f"site{number}.log")
                print(f"round {number}: {kind} done: {figures}", flush=True)
            rounds.append({
                "round": number,
                "first": order[0],
                **figures,
                "ratio": round(figures["converge"]["seconds"] / figures["floor"]["seconds"], 2),
            })  # fmt: skip
            # written after every round, so that a run cut short keeps the rounds it finished
            write(args, began, rounds)
        finally:
            keep = [site_host] if args.keep and number == args.rounds else []
            remove_hosts([h for h in (floor_host, site_host) if h not in keep])
    print(markdown(json.loads((args.results / "converge.json").read_text())))


def write(args, began: float, rounds: list[dict]) -> None:
    ratios = [r["ratio"] for r in rounds]
    result = {
        "benchmark": "converge",
        "command": " ".join([".venv/bin/python bench/converge/run.py", *sys.argv[1:]]),
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(time.monotonic() - began, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "release": args.release,
        "packages": ROLE_PACKAGES,
        "rounds_planned": args.rounds,
        "rounds": rounds,
        "ratio_median": round(statistics.median(ratios), 2),
        "overhead_median_seconds": round(
            statistics.median(r["converge"]["seconds"] - r["floor"]["seconds"] for r in rounds), 1
        ),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "converge.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "converge.md").write_text(markdown(result))


if __name__ == "__main__":
    main()
