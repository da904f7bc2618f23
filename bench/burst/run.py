"""A burst of Moodle-style messages through the relay transport, throttled by the postfix role
(postfix_relay_per_minute_limit): none lost, the observed delivery rate against the setting, the
time to drain (bench/README.md, "Burst").

    .venv/bin/python bench/burst/run.py [--messages 10000] [--per-minute 60] [--window 300]

One lab container (lmsmail-bench-burst) gets lms.mail.dkim and lms.mail.postfix with the relay
transport to the lab's relay (smtp.mailservice.test, its login, its CA), throttled to N messages
a minute. COUNT messages are handed to its Postfix over SMTP on 127.0.0.1:25, one session each, as
Moodle does. For WINDOW seconds after the first one arrives, the throttled deliveries are counted
by Message-ID where the relay delivers them (the lab MX's Maildir for students.test, read only).
Then the container's own Postfix is pointed at an smtp-sink inside the same container without the
delay, so that the rest of the queue drains in minutes instead of hours without loading the
shared relay and MX, and every message is counted by Message-ID at one receiver or the other.
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
import threading
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
CONTAINER = "lmsmail-bench-burst"
MX = "lmsmail-mx"
MX_MAILDIR = "/var/mail/vhosts/students.test"
SINK_DIR = "/var/tmp/sink"  # noqa: S108 - inside the benchmark's own container
COUNT = (HERE / "count.py").read_text()


def podman(*args: str, check: bool = True, timeout: float | None = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check, timeout=timeout)


def in_bench(*argv: str, check: bool = True) -> str:
    return podman("exec", CONTAINER, *argv, check=check).stdout


def arrivals(container: str, run_id: str, directory: str) -> dict[int, list[tuple[float, int]]]:
    """Message index -> [(arrival time, signed)] for this run's messages in a container's directory."""
    out = podman("exec", container, "python3", "-c", COUNT, run_id, directory).stdout
    found: dict[int, list[tuple[float, int]]] = {}
    for line in out.splitlines():
        index, mtime, signed = line.split()
        found.setdefault(int(index), []).append((float(mtime), int(signed)))
    return found


def queue_size() -> int:
    return len([line for line in in_bench("postqueue", "-j").splitlines() if line.strip()])


def postfix_log_counts() -> dict[str, int]:
    """What the container's Postfix logged for deliveries, by relay and status."""
    log = in_bench("journalctl", "--no-pager", "-o", "cat", "SYSLOG_IDENTIFIER=postfix/smtp", check=False)
    counts: dict[str, int] = {}
    for line in log.splitlines():
        if "status=" not in line:
            continue
        status = line.split("status=", 1)[1].split()[0]
        relay = line.split("relay=", 1)[1].split(",", 1)[0] if "relay=" in line else "-"
        key = f"{status} via {relay}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def relay_sessions() -> dict[str, int]:
    """TLS sessions with the relay the container's SMTP client opened and reused (a reused one
    logs "TLS connection reused", Postfix 3.4 and later with smtp_tls_connection_reuse)."""
    log = in_bench("journalctl", "--no-pager", "-o", "cat", "SYSLOG_IDENTIFIER=postfix/smtp", check=False)
    relay = [line for line in log.splitlines() if "TLS connection" in line and "mailservice.test" in line]
    return {
        "opened": sum(1 for line in relay if "TLS connection established" in line),
        "reused": sum(1 for line in relay if "TLS connection reused" in line),
    }


class LoadSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append(os.getloadavg()[0])
            self.stopping.wait(10)

    def summary(self) -> dict:
        s = self.samples or [os.getloadavg()[0]]
        return {"min": round(min(s), 1), "median": round(statistics.median(s), 1), "max": round(max(s), 1)}


def rate_per_minute(times: list[float]) -> float | None:
    times = sorted(times)
    if len(times) < 2 or times[-1] == times[0]:
        return None
    return round((len(times) - 1) / (times[-1] - times[0]) * 60, 2)


def measure(args, run_id: str, log) -> dict:
    delay = in_bench("postconf", "-h", "smtp_destination_rate_delay").strip()
    relayhost = in_bench("postconf", "-h", "relayhost").strip()
    reuse = in_bench("postconf", "-h", "smtp_tls_connection_reuse").strip()
    delay_s = int(delay.rstrip("s") or 0)
    log(
        f"the role wrote relayhost = {relayhost}, smtp_destination_rate_delay = {delay},"
        f" smtp_tls_connection_reuse = {reuse}"
    )
    sender = subprocess.Popen(
        ["podman", "exec", CONTAINER, "python3", "/usr/local/bin/lms-mail-bench-burst-send",
         str(args.messages), str(args.threads), run_id, str(args.size), "school.test"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.time()
    first_arrival = None
    sent_result = None
    deadline = started + args.window + 900
    while time.time() < deadline:
        time.sleep(10)
        if sent_result is None and sender.poll() is not None:
            out, err = sender.communicate()
            if sender.returncode != 0:
                raise SystemExit(f"the sender failed: {out}\n{err}")
            sent_result = json.loads(out.strip().splitlines()[-1])
            log(f"handed over: {sent_result}")
        at_mx = arrivals(MX, run_id, MX_MAILDIR)
        if at_mx and first_arrival is None:
            first_arrival = min(t for v in at_mx.values() for t, _ in v)
        log(f"{len(at_mx)} at the MX, queue {queue_size()}")
        if (
            sent_result is not None
            and first_arrival is not None
            and time.time() - first_arrival >= args.window
        ):
            break
    else:
        raise SystemExit("the window never closed: no message reached the MX")
    window_closed = time.time()
    window_mx = arrivals(MX, run_id, MX_MAILDIR)
    window_times = [t for v in window_mx.values() for t, _ in v]
    log_window = postfix_log_counts()
    sessions_window = relay_sessions()

    # The rest of the queue: to smtp-sink in the same container, without the delay.
    in_bench("postconf", "-e", "relayhost = [127.0.0.1]:2525", "smtp_destination_rate_delay = 0s",
             "smtp_tls_security_level = none", "smtp_sasl_auth_enable = no")  # fmt: skip
    in_bench("postfix", "reload")
    in_bench("postqueue", "-f")
    drain_started = time.time()
    while queue_size() > 0:
        if time.time() - drain_started > args.drain_timeout:
            raise SystemExit(f"the queue did not drain in {args.drain_timeout} s")
        time.sleep(5)
    drained = time.time()
    log(f"the rest drained to the sink in {drained - drain_started:.0f} s")
    # Mail the relay took before the switch may still be on its way to the MX.
    relay_sent = sum(
        n for k, n in postfix_log_counts().items() if k.startswith("sent via smtp.mailservice.test")
    )
    for _ in range(24):
        at_mx = arrivals(MX, run_id, MX_MAILDIR)
        if len(at_mx) >= relay_sent:
            break
        time.sleep(5)
    at_sink = arrivals(CONTAINER, run_id, SINK_DIR)
    every = set(at_mx) | set(at_sink)
    duplicates = sum(len(v) - 1 for v in at_mx.values()) + sum(len(v) - 1 for v in at_sink.values())
    duplicates += len(set(at_mx) & set(at_sink))
    unsigned = [i for src in (at_mx, at_sink) for i, v in src.items() if not all(s for _, s in v)]
    observed = rate_per_minute(window_times)
    return {
        "run_id": run_id,
        "relayhost": relayhost,
        "rate_delay_written_by_role": delay,
        "tls_connection_reuse_written_by_role": reuse,
        "relay_tls_sessions_in_window": sessions_window,
        "rate_implied_by_delay_per_minute": round(60 / delay_s, 2) if delay_s else None,
        "handed_over": sent_result,
        "window_seconds": round(window_closed - first_arrival, 1),
        "first_arrival_after_seconds": round(first_arrival - started, 1),
        "delivered_in_window": len(window_times),
        "observed_per_minute": observed,
        "ratio_observed_to_setting": round(observed / args.per_minute, 3) if observed else None,
        "postfix_log_at_window_end": log_window,
        "drain_to_sink_seconds": round(drained - drain_started, 1),
        "postfix_log_at_end": postfix_log_counts(),
        "at_mx": len(at_mx),
        "at_sink": len(at_sink),
        "received_unique": len(every),
        "lost": args.messages - len(every & set(range(args.messages))),
        "duplicates": duplicates,
        "unsigned": len(unsigned),
        "drain_at_setting_minutes": round(args.messages / args.per_minute, 1),
        "drain_at_observed_minutes": round(args.messages / observed, 1) if observed else None,
    }


def markdown(result: dict) -> str:
    m = result["measured"]
    lines = [
        "# Burst benchmark results",
        "",
        f"`{result['command']}` on {result['generated']}: {result['machine']['cpus']} CPUs, "
        f"{result['machine']['release']} container, load average"
        f" {result['load']['min']}–{result['load']['max']}"
        f" (median {result['load']['median']}); the whole run took {result['duration_seconds']} s.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| messages handed over (SMTP to 127.0.0.1:25, one session each) |"
        f" {m['handed_over']['accepted']} of {result['messages']} in {m['handed_over']['seconds']} s,"
        f" {m['handed_over']['refused']} refused |",
        f"| setting (`postfix_relay_per_minute_limit`) | {result['per_minute']}/min |",
        f"| what the role wrote | `smtp_destination_rate_delay = {m['rate_delay_written_by_role']}`"
        f" (at most {m['rate_implied_by_delay_per_minute']}/min),"
        f" `smtp_tls_connection_reuse = {m.get('tls_connection_reuse_written_by_role', 'no')}` |",
        f"| TLS sessions with the relay in the window: opened / reused |"
        f" {m.get('relay_tls_sessions_in_window', {}).get('opened', '-')} /"
        f" {m.get('relay_tls_sessions_in_window', {}).get('reused', '-')} |",
        f"| delivered through the relay in the window (counted at the MX) | {m['delivered_in_window']}"
        f" in {m['window_seconds']} s |",
        f"| observed rate | **{m['observed_per_minute']}/min** |",
        f"| ratio observed / setting | **{m['ratio_observed_to_setting']}** |",
        f"| the rest, drained unthrottled to smtp-sink | {m['at_sink']} in {m['drain_to_sink_seconds']} s |",
        f"| received, by Message-ID (MX + sink) | {m['received_unique']} of {result['messages']} |",
        f"| **lost** / duplicated | **{m['lost']}** / {m['duplicates']} |",
        f"| without a `d=school.test` DKIM signature (the From is the relay login's after the role's"
        f" sender rewriting: see bench/README.md) | {m['unsigned']} |",
        f"| time to drain {result['messages']} at the setting / at the observed rate | "
        f"{m['drain_at_setting_minutes']} / {m['drain_at_observed_minutes']} min |",
        "",
        f"Postfix's log in the container at the end of the window: `{m['postfix_log_at_window_end']}`;"
        f" at the end: `{m['postfix_log_at_end']}`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10000, help="messages in the burst (default 10000)")
    parser.add_argument(
        "--per-minute", type=int, default=60, help="postfix_relay_per_minute_limit (default 60)"
    )
    parser.add_argument(
        "--window", type=int, default=300, help="seconds of throttled delivery measured at the MX"
    )
    parser.add_argument("--threads", type=int, default=4, help="parallel SMTP clients handing messages over")
    parser.add_argument("--size", type=int, default=4096, help="about this many bytes a message")
    parser.add_argument(
        "--drain-timeout", type=int, default=1200, help="seconds the unthrottled drain may take"
    )
    parser.add_argument("--release", default="bookworm", choices=["bookworm", "trixie"])
    parser.add_argument("--results", type=pathlib.Path, default=HERE.parent / "results")
    parser.add_argument("--keep", action="store_true", help="leave the container for a look inside")
    parser.add_argument("--render", action="store_true", help="only write burst.md again from burst.json")
    args = parser.parse_args()
    if args.render:
        result = json.loads((args.results / "burst.json").read_text())
        (args.results / "burst.md").write_text(markdown(result))
        return
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    began = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - began:6.0f} s] {text}", flush=True)

    sampler = LoadSampler()
    sampler.start()
    try:
        setup = subprocess.run(
            [str(pathlib.Path(sys.executable).with_name("ansible-playbook")), str(HERE / "setup.yml"), "-e",
             json.dumps({"bench_container": CONTAINER, "bench_release": args.release,
                         "bench_per_minute": args.per_minute})],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if setup.returncode != 0:
            sys.exit(f"setting up the benchmark failed:\n{setup.stdout[-4000:]}\n{setup.stderr[-2000:]}")
        log("container converged")
        measured = measure(args, uuid.uuid4().hex[:8], log)
    finally:
        sampler.stopping.set()
        if not args.keep:
            podman("rm", "-f", "-t", "0", CONTAINER, check=False)
    result = {
        "benchmark": "burst",
        "command": " ".join([".venv/bin/python bench/burst/run.py", *sys.argv[1:]]),
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(time.monotonic() - began, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "release": args.release},
        "load": sampler.summary(),
        "messages": args.messages,
        "per_minute": args.per_minute,
        "measured": measured,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "burst.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "burst.md").write_text(markdown(result))
    print(markdown(result))
    if measured["lost"] or measured["handed_over"]["refused"]:
        sys.exit("messages were refused or lost")


if __name__ == "__main__":
    main()
