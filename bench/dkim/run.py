"""DKIM signing's cost: messages per second through Postfix with the OpenDKIM milter against the
same Postfix without it, in one run, with Postfix's own smtp-source and smtp-sink inside one lab
container (bench/dkim/README.md).

    .venv/bin/python bench/dkim/run.py [--messages 2000] [--rounds 3] [--sessions 10] [--size 4096]
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
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
CONTAINER = "lmsmail-bench-dkim"
SIGNED, UNSIGNED = "25", "2526"


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check)


def measure(args) -> list[str]:
    run = podman(
        "exec",
        CONTAINER,
        "lms-mail-bench-dkim",
        str(args.messages),
        str(args.rounds),
        str(args.sessions),
        str(args.size),
        check=False,
    )
    if run.returncode != 0:
        sys.exit(f"the measurement failed:\n{run.stdout}\n{run.stderr}")
    return run.stdout.splitlines()


def summarise(lines: list[str], args) -> dict:
    checks = {port: int(n) for kind, port, n in (line.split() for line in lines if line.startswith("check "))}
    runs = [line.split() for line in lines if line.startswith("run ")]
    per_port: dict[str, dict] = {}
    for port in (SIGNED, UNSIGNED):
        rows = [r for r in runs if r[2] == port]
        accepted = [args.messages / float(r[3]) for r in rows]
        delivered = [args.messages / float(r[4]) for r in rows]
        per_port[port] = {
            "accepted_per_second": [round(x, 1) for x in accepted],
            "delivered_per_second": [round(x, 1) for x in delivered],
            "accepted_per_second_median": round(statistics.median(accepted), 1),
            "delivered_per_second_median": round(statistics.median(delivered), 1),
        }
    signed, unsigned = per_port[SIGNED], per_port[UNSIGNED]
    return {
        "signed_in_check": checks,
        "with_milter": signed,
        "without_milter": unsigned,
        "ratio_accepted": ratio(signed, unsigned, "accepted_per_second_median"),
        "ratio_delivered": ratio(signed, unsigned, "delivered_per_second_median"),
    }


def ratio(signed: dict, unsigned: dict, key: str) -> float:
    return round(signed[key] / unsigned[key], 3)


def row(name: str, figures: dict) -> str:
    cells = [
        name,
        figures["accepted_per_second_median"],
        figures["delivered_per_second_median"],
        ", ".join(map(str, figures["accepted_per_second"])),
        ", ".join(map(str, figures["delivered_per_second"])),
    ]
    return "| " + " | ".join(map(str, cells)) + " |"


# What each measurement is, in the order run.py takes them: the role's defaults first, then the
# alternatives, each switched to by lms-mail-bench-dkim-switch NAME inside the container (every
# one from the roles' files again, changing only what it names). The last field: whether port 25
# signs in that configuration (the check before the measurement demands it, or demands it not).
CONFIGURATIONS = {
    "after_queue": (
        "the role's defaults: signed after the queue (postfix_milter_mode after_queue), "
        "signer on inet:127.0.0.1:8891",
        True,
    ),
    "reinject_unsigned": (
        "the same two passes through the queue without the signer (the signing smtpd's milter "
        "removed): what the re-injection alone costs; not a configuration to run",
        False,
    ),
    "milter_lean": (
        "after the queue, the milter's settings lean: no milter macros sent to the signer, "
        "OpenDKIM's Syslog off",
        True,
    ),
    "reinject_reuse": (
        "after the queue, the re-injection keeping its sessions to the signing smtpd open "
        "(dkimsign's smtp_connection_cache_on_demand = yes)",
        True,
    ),
    "after_queue_unix": (
        "after the queue, signer on a socket file in Postfix's chroot, unix:opendkim/opendkim.sock",
        True,
    ),
    "inline": (
        "the milter where mail is handed over (postfix_milter_mode inline, the old default; "
        "unsigned mail when the signer is away), inet:127.0.0.1:8891",
        True,
    ),
}


def markdown(result: dict) -> str:
    lines = [
        "# DKIM benchmark results",
        "",
        f"`{result['command']}` on {result['generated']}: {result['machine']['cpus']} CPUs,",
        f"{result['machine']['release']} container, {result['messages']} messages of {result['size']} bytes",
        f"per run over {result['sessions']} SMTP sessions, {result['rounds']} rounds alternating which path",
        f"goes first; the whole run took {result['duration_seconds']} s. Medians of the rounds.",
    ]
    for socket, s in result["summary"].items():
        lines += [
            "",
            f"## {CONFIGURATIONS[socket][0][0].upper()}{CONFIGURATIONS[socket][0][1:]}",
            "",
            f"Check (3 messages each): signed at the sink through port 25: {s['signed_in_check'][SIGNED]},"
            f" through port 2526: {s['signed_in_check'].get(UNSIGNED)}.",
            "",
            "| path | accepted msg/s | delivered msg/s | accepted, each round | delivered, each round |",
            "|---|---:|---:|---|---|",
            row("signed (port 25)", s["with_milter"]),
            row("unsigned (port 2526)", s["without_milter"]),
            "",
            f"Ratio signed / unsigned: **{s['ratio_accepted']}** (accepted),"
            f" **{s['ratio_delivered']}** (delivered to the sink)."
            + (
                " After the queue, *accepted* is Moodle's hand-over, before signing; *delivered* counts"
                " every message signed and at the sink."
                if socket != "inline"
                else ""
            ),
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--release", default="bookworm", choices=["bookworm", "trixie"])
    parser.add_argument("--results", type=pathlib.Path, default=HERE)
    parser.add_argument("--keep", action="store_true", help="leave the container for a look inside")
    parser.add_argument(
        "--configurations",
        nargs="+",
        choices=list(CONFIGURATIONS),
        default=list(CONFIGURATIONS),
        help="which to measure, in this order (default: all)",
    )
    args = parser.parse_args()
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))

    started = time.monotonic()
    try:
        setup = subprocess.run(
            [
                str(pathlib.Path(sys.executable).with_name("ansible-playbook")),
                str(HERE / "setup.yml"),
                "-e",
                json.dumps({"bench_container": CONTAINER, "bench_release": args.release}),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if setup.returncode != 0:
            sys.exit(f"setting up the benchmark failed:\n{setup.stdout[-4000:]}\n{setup.stderr[-2000:]}")
        lines = {}
        for name in args.configurations:
            switch = podman("exec", CONTAINER, "lms-mail-bench-dkim-switch", name, check=False)
            if switch.returncode != 0:
                sys.exit(f"switching to {name} failed:\n{switch.stdout}\n{switch.stderr}")
            lines[name] = measure(args)
    finally:
        if not args.keep:
            podman("rm", "-f", CONTAINER, check=False)
    summary = {socket: summarise(socket_lines, args) for socket, socket_lines in lines.items()}
    result = {
        "benchmark": "dkim",
        "command": " ".join([".venv/bin/python bench/dkim/run.py", *sys.argv[1:]]),
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(time.monotonic() - started, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "release": args.release},
        "messages": args.messages,
        "rounds": args.rounds,
        "sessions": args.sessions,
        "size": args.size,
        "raw": lines,
        "summary": summary,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "results.md").write_text(markdown(result))
    print(markdown(result))
    wrong = [
        name
        for name, s in summary.items()
        if s["signed_in_check"] != {SIGNED: 3 if CONFIGURATIONS[name][1] else 0, UNSIGNED: 0}
    ]
    if wrong:
        sys.exit(f"the check failed in {wrong}: port 25 must sign every message where it signs, 2526 none")


if __name__ == "__main__":
    main()
