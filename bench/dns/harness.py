"""The DNS benchmark: lms.mail.spf_record against the community modules, on the same emulators
and the same BIND, in one run. See bench/README.md for what is measured and why.

Every run of a module is one `ansible-playbook` process (localhost, the venv's Python) with a
single task, so both sides pay the same Ansible start-up; the task's own time comes from the
ansible.posix.json callback, the process's from a monotonic clock around it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import ansible
import yaml

from bench.dns.community import patched_collections
from bench.dns.dnsproxy import CountingDnsProxy
from bench.dns.report import markdown
from bench.dns.targets import (
    DOMAIN,
    SCENARIOS,
    CloudflareTarget,
    DigitalOceanTarget,
    Rfc2136Target,
    Scenario,
    Target,
    Tool,
)
from tests.dns import bind as bindlib
from tests.dns.emulator_fixtures import filler_rows

REPO = Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python bench/dns/run.py"
PLAYBOOK_TIMEOUT = 300
SLOW_SECONDS = 5.0  # a tool slower than this per task is run alone once, not module_repeat times


# -- nothing leaves this machine ---------------------------------------------------------------------


class EgressGuard:
    """Every HTTP(S) proxy variable of the module runs points here, with only 127.0.0.1 and
    localhost exempt: a client that tried to reach any other host (a patch that missed, a
    library that ignores the end point it was given) connects to this listener instead of
    leaving the machine. The request line is kept, answered 403, and the benchmark fails."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True, name="egress-guard").start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    line = "(no request line)"
            self.attempts.append(line)

    def environment(self) -> dict[str, str]:
        env = {}
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            env[name] = env[name.upper()] = self.url
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        return env

    def stop(self) -> None:
        self._sock.close()


# -- one ansible-playbook run ------------------------------------------------------------------------


@dataclasses.dataclass
class RunResult:
    changed: bool | None
    failed: bool
    message: str
    requests: int
    writes: int
    dns_messages: int  # through the counting proxy: for the API back ends, spf_record's lookup count
    task_seconds: float
    playbook_seconds: float
    detail: dict[str, int]
    payload: Path | None = None  # the module as Ansible sent it (AnsiballZ), when kept


def _seconds(duration: dict[str, str]) -> float:
    start, end = (datetime.datetime.fromisoformat(duration[k].rstrip("Z")) for k in ("start", "end"))
    return (end - start).total_seconds()


class Runner:
    def __init__(self, workdir: Path, patched_path: Path, guard: EgressGuard) -> None:
        self.workdir = workdir
        self.patched_path = patched_path
        self.base_env = {
            **os.environ,
            **guard.environment(),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
        }
        # The tokens these runs use are the emulators' fake ones: none from the caller's
        # environment may reach a module (a real token would be sent to 127.0.0.1 only, but
        # it has no business in a benchmark).
        for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_TOKEN", "DIGITALOCEAN_TOKEN", "DO_API_TOKEN"):
            self.base_env.pop(name, None)

    def run(self, target: Target, tool: Tool, proxy: CountingDnsProxy, keep: bool = False) -> RunResult:
        """One ansible-playbook run of the tool's task; with keep, the module's payload is kept
        (ANSIBLE_KEEP_REMOTE_FILES) for run_payload."""
        playbook = self.workdir / "play.yml"
        play = {
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            # the controller's venv: the modules need its dnspython and requests
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [{"name": tool.label, tool.module: tool.args}],
        }
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
        env = dict(self.base_env)
        if tool.patched:
            env["ANSIBLE_COLLECTIONS_PATH"] = f"{self.patched_path}:{REPO / 'collections'}"
        kept = Path(tempfile.mkdtemp(prefix="kept-", dir=self.workdir)) if keep else None
        if kept is not None:
            env["ANSIBLE_KEEP_REMOTE_FILES"] = "1"
            env["ANSIBLE_REMOTE_TMP"] = str(kept)
        target.clear_counts()
        proxy.clear()
        started = time.perf_counter()
        process = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=PLAYBOOK_TIMEOUT,
        )
        elapsed = time.perf_counter() - started
        counts = target.counts()
        dns_messages = len(proxy.messages())
        try:
            report = json.loads(process.stdout)
            task = report["plays"][0]["tasks"][0]
            result = task["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError):
            raise RuntimeError(
                f"{tool.label} on {target.name}: ansible-playbook gave no result (rc {process.returncode})\n"
                f"{process.stdout[-3000:]}\n{process.stderr[-3000:]}"
            ) from None
        failed = bool(result.get("failed"))
        return RunResult(
            changed=None if failed else bool(result.get("changed")),
            failed=failed,
            message=str(result.get("msg", ""))[:500] if failed else "",
            requests=counts.requests,
            writes=counts.writes,
            dns_messages=dns_messages,
            task_seconds=round(_seconds(task["task"]["duration"]), 3),
            playbook_seconds=round(elapsed, 3),
            detail=counts.detail,
            payload=next(iter(sorted(kept.glob("**/AnsiballZ_*.py"))), None) if kept else None,
        )

    def run_payload(self, payload: Path) -> tuple[float, dict[str, Any]]:
        """The kept module payload run alone by the same Python, as Ansible runs it on localhost:
        the module's own time (interpreter start, imports, its requests), without Ansible's
        controller around it. Its arguments are inside it."""
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, str(payload)],
            cwd=self.workdir,
            env=self.base_env,
            capture_output=True,
            text=True,
            timeout=PLAYBOOK_TIMEOUT,
        )
        elapsed = time.perf_counter() - started
        try:
            result = json.loads(process.stdout)
        except ValueError:
            result = {"failed": True, "msg": (process.stdout + process.stderr)[-500:]}
        return round(elapsed, 3), result


# -- the benchmark -----------------------------------------------------------------------------------


def _is_spf(value: str) -> bool:
    return value.lower() == "v=spf1" or value.lower().startswith("v=spf1 ")


def outcome(scenario: Scenario, after: list[str]) -> dict[str, Any]:
    spf = [v for v in after if _is_spf(v)]
    others_before = [v for v in scenario.apex_txt if not _is_spf(v)]
    lost = [v for v in others_before if v not in after]
    if spf == [scenario.wanted] and not lost:
        verdict = "correct"
    else:
        problems = []
        if len(spf) > 1:
            problems.append(f"{len(spf)} SPF records (permerror at receivers)")
        elif scenario.wanted not in spf:
            problems.append("the wanted SPF record is missing")
        if lost:
            problems.append("deleted " + ", ".join(lost))
        verdict = "; ".join(problems)
    return {"apex_txt_after": after, "spf_records": spf, "other_txt_lost": lost, "verdict": verdict}


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def bench_target(
    runner: Runner,
    target: Target,
    scenario: Scenario,
    tools: list[Tool],
    proxy: CountingDnsProxy,
    repeat: int,
    module_repeat: int,
) -> list[dict[str, Any]]:
    """Every tool of one back end, `repeat` times each, interleaved: repetition n runs each tool
    (the apex reset, then its two runs) before repetition n+1 starts, in an order rotated every
    repetition. On a machine shared with other work a slow minute then slows every tool alike,
    instead of whichever tool happened to be running, so the ratios stay fair.

    Then the module alone: the payloads Ansible sent in the first repetition, run `module_repeat`
    times each in the same interleaved way (reset, first run, no-op run). A tool whose first run
    took more than SLOW_SECONDS of task time is run alone once only."""
    repetitions: dict[str, list[list[RunResult]]] = {tool.label: [] for tool in tools}
    outcomes: dict[str, list[dict[str, Any]]] = {tool.label: [] for tool in tools}
    for rep in range(repeat):
        shift = rep % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            print(
                f"[{scenario.name}] {target.name}: {tool.label} ({rep + 1}/{repeat})",
                file=sys.stderr,
                flush=True,
            )
            target.reset(scenario)
            repetitions[tool.label].append([runner.run(target, tool, proxy, keep=rep == 0) for _ in range(2)])
            outcomes[tool.label].append(outcome(scenario, target.apex_txt()))
    alone: dict[str, list[list[tuple[float, dict[str, Any]]]]] = {tool.label: [] for tool in tools}
    for rep in range(module_repeat):
        shift = rep % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            first = repetitions[tool.label][0][0]
            if first.payload is None or (rep > 0 and first.task_seconds > SLOW_SECONDS):
                continue
            print(
                f"[{scenario.name}] {target.name}: {tool.label} alone ({rep + 1}/{module_repeat})",
                file=sys.stderr,
                flush=True,
            )
            target.reset(scenario)
            alone[tool.label].append([runner.run_payload(first.payload) for _ in range(2)])
    return [
        case(target, tool, repetitions[tool.label], outcomes[tool.label], alone[tool.label]) for tool in tools
    ]


def case(
    target: Target,
    tool: Tool,
    repetitions: list[list[RunResult]],
    outcomes: list[dict[str, Any]],
    alone: list[list[tuple[float, dict[str, Any]]]],
) -> dict[str, Any]:
    runs = []
    for index in range(2):
        results = [rep[index] for rep in repetitions]
        first = results[0]
        counts = {(r.requests, r.writes, r.dns_messages, r.changed, r.failed) for r in results}
        runs.append(
            {
                "run": index + 1,
                "changed": first.changed,
                "failed": first.failed,
                "message": first.message,
                "requests": first.requests,
                "writes": first.writes,
                "dns_messages": first.dns_messages,
                "requests_by_kind": first.detail,
                # request counts are deterministic; a repetition that differs is reported, not hidden
                "counts_same_every_repetition": len(counts) == 1,
                "task_seconds": _median([r.task_seconds for r in results]),
                "playbook_seconds": _median([r.playbook_seconds for r in results]),
                "task_seconds_all": [r.task_seconds for r in results],
                "playbook_seconds_all": [r.playbook_seconds for r in results],
                # the fastest of the runs alone, as timeit reports: on a machine shared with other
                # work a slower run measures the others' load, not the module
                "module_seconds": min(a[index][0] for a in alone) if alone else None,
                "module_seconds_median": _median([a[index][0] for a in alone]) if alone else None,
                "module_seconds_all": [a[index][0] for a in alone],
                # the module alone must do what it did under ansible-playbook
                "module_changed_all": [
                    None if a[index][1].get("failed") else bool(a[index][1].get("changed")) for a in alone
                ],
            }
        )
    return {
        "provider": target.name,
        "unit": target.unit,
        "tool": tool.label,
        "module": tool.module,
        "lms": tool.lms,
        "task_args": {k: v for k, v in tool.args.items() if "token" not in k and "secret" not in k},
        "runs": runs,
        "outcome": outcomes[0],
        "outcome_same_every_repetition": all(o == outcomes[0] for o in outcomes),
    }


def ratios(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """community / lms.mail for every community case, per provider, from this run's figures."""
    out = []
    for lms in (c for c in cases if c["lms"]):
        for other in (c for c in cases if c["provider"] == lms["provider"] and not c["lms"]):
            entry: dict[str, Any] = {"provider": lms["provider"], "community": other["tool"]}
            for key in ("requests", "task_seconds", "playbook_seconds", "module_seconds"):
                for index in range(2):
                    entry[f"{key}_run{index + 1}"] = _ratio(
                        other["runs"][index][key], lms["runs"][index][key]
                    )
                entry[f"{key}_both"] = _ratio(
                    sum(r[key] or 0 for r in other["runs"]), sum(r[key] or 0 for r in lms["runs"])
                )
            out.append(entry)
    return out


def machine() -> dict[str, Any]:
    named = subprocess.run(["named", "-v"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "ansible_core": ansible.__version__,
        "named": named,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="filler records in the zone")
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions of every case; times are medians (default 3)"
    )
    parser.add_argument(
        "--module-repeat",
        type=int,
        default=7,
        help="runs of each module alone (its kept payload, no ansible-playbook around it); default 7",
    )
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results", help="output directory")
    args = parser.parse_args(argv)

    started = time.monotonic()
    guard = EgressGuard()
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="lms-bench-dns-") as tmp:
        workdir = Path(tmp)
        with bindlib.start_named(workdir / "bind") as bind:
            proxy = CountingDnsProxy(bindlib.free_port(), bind.port)
            proxy.start()
            try:
                cloudflare = CloudflareTarget(proxy)
                targets.append(cloudflare)
                digitalocean = DigitalOceanTarget(proxy)
                targets.append(digitalocean)
                targets.append(Rfc2136Target(proxy, bind))
                # Not "collections" beside play.yml: Ansible adds a playbook's adjacent
                # collections/ to every run, and the partial community.general would hide nsupdate.
                patched = patched_collections(
                    workdir / "patched", cloudflare.cf.base_url, digitalocean.do.base_url
                )
                runner = Runner(workdir, patched, guard)
                rows = filler_rows(args.records)
                for target in targets:
                    target.seed(rows)
                    # the zone size, as each server holds it, at the start of a case
                    target.reset(SCENARIOS[0])
                zone = {target.name: target.zone_size() for target in targets}
                scenarios = []
                for scenario in SCENARIOS:
                    cases = []
                    for target in targets:
                        tools = list(target.tools(scenario))
                        cases += bench_target(
                            runner, target, scenario, tools, proxy, args.repeat, args.module_repeat
                        )
                    scenarios.append(
                        {
                            "name": scenario.name,
                            "description": scenario.description,
                            "apex_txt_before": list(scenario.apex_txt),
                            "wanted": scenario.wanted,
                            "cases": cases,
                            "ratios": ratios(cases),
                        }
                    )
            finally:
                for target in targets:
                    target.stop()
                proxy.stop()
    guard.stop()

    results = {
        "benchmark": "dns",
        "command": COMMAND,
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(time.monotonic() - started, 1),
        "machine": machine(),
        "domain": DOMAIN,
        "filler_records": args.records,
        "zone_records": zone,
        "repeat": args.repeat,
        "module_repeat": args.module_repeat,
        "egress_attempts": guard.attempts,
        "scenarios": scenarios,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    _write(args.results / "dns.json", json.dumps(results, indent=2) + "\n")
    _write(args.results / "dns.md", markdown(results))
    print(markdown(results))
    failures = [
        f"{s['name']}/{c['provider']}: {c['tool']} run {r['run']}: {r['message']}"
        for s in scenarios
        for c in s["cases"]
        if c["lms"]
        for r in c["runs"]
        if r["failed"]
    ]
    if guard.attempts:
        print(f"FAIL: requests tried to leave 127.0.0.1: {guard.attempts}", file=sys.stderr)
        return 1
    if failures:
        print("FAIL: lms.mail.spf_record failed:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    return 0


def _write(path: Path, text: str) -> None:
    # a reader never sees half a file: write aside (*.tmp is ignored by git), then rename
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text)
    scratch.replace(path)
