"""bench/results/dns.md from the results of one run (the figures in bench/README.md are a copy)."""

from __future__ import annotations

from typing import Any


def _changed(run: dict[str, Any]) -> str:
    if run["failed"]:
        return "failed"
    return "changed" if run["changed"] else "ok"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:g}×"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _runs_table(scenario: dict[str, Any]) -> list[str]:
    lines = [
        "| back end | module | run | requests | writes | DNS lookups | module alone s | task s "
        "| ansible-playbook s | result |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case in scenario["cases"]:
        for run in case["runs"]:
            # for rfc2136 the requests are the DNS messages themselves; no separate lookups column
            lookups = "" if case["provider"] == "rfc2136" else str(run["dns_messages"])
            lines.append(
                f"| {case['provider']} | {case['tool']} | {run['run']} | {run['requests']} | "
                f"{run['writes']} | {lookups} | {_s(run.get('module_seconds'))} | {run['task_seconds']:.2f} "
                f"| {run['playbook_seconds']:.2f} "
                f"| {_changed(run)} |"
            )
    return lines


def _ratio_table(scenario: dict[str, Any]) -> list[str]:
    lines = [
        "| back end | community module | requests run 1 | requests run 2 | module alone run 1 "
        "| module alone run 2 | task time run 1 | task time run 2 | ansible-playbook time, both runs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in scenario["ratios"]:
        lines.append(
            f"| {r['provider']} | {r['community']} | {_x(r['requests_run1'])} | {_x(r['requests_run2'])} "
            f"| {_x(r.get('module_seconds_run1'))} | {_x(r.get('module_seconds_run2'))} "
            f"| {_x(r['task_seconds_run1'])} | {_x(r['task_seconds_run2'])} "
            f"| {_x(r['playbook_seconds_both'])} |"
        )
    return lines


def _outcome_table(scenario: dict[str, Any]) -> list[str]:
    lines = ["| back end | module | TXT at the apex after both runs | verdict |", "|---|---|---|---|"]
    for case in scenario["cases"]:
        after = "<br>".join(f"`{v}`" for v in case["outcome"]["apex_txt_after"]) or "(none)"
        lines.append(f"| {case['provider']} | {case['tool']} | {after} | {case['outcome']['verdict']} |")
    return lines


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    zone = ", ".join(f"{k} {v}" for k, v in results["zone_records"].items())
    out = [
        "# DNS benchmark results",
        "",
        f"`{results['command']}` on {results['generated']}: {m['cpus']} CPUs, {m['platform']}, "
        f"Python {m['python']}, ansible-core {m['ansible_core']}, {m['named']}.",
        f"Zone `{results['domain']}`: {results['filler_records']} filler records plus the apex "
        f"(records as each server holds them: {zone}). Times are medians of {results['repeat']} "
        f"repetitions under ansible-playbook, and of {results.get('module_repeat', 0)} runs of each "
        "module alone (its kept payload, the fastest run; a module slower than 5 s a task: one run); "
        "the whole run "
        f"took {results['duration_seconds']:g} s.",
        "Requests: API requests for cloudflare and digitalocean, DNS messages for rfc2136. "
        "DNS lookups: the queries spf_record's lookup count sends to the resolver.",
        "Ratios are community module / lms.mail.spf_record, from this run.",
    ]
    for scenario in results["scenarios"]:
        out += [
            "",
            f"## Scenario `{scenario['name']}`",
            "",
            scenario["description"],
            "",
            *_runs_table(scenario),
            "",
            *_ratio_table(scenario),
            "",
            *_outcome_table(scenario),
        ]
    unstable = [
        f"{scenario['name']}/{case['provider']}/{case['tool']}"
        for scenario in results["scenarios"]
        for case in scenario["cases"]
        if not case["outcome_same_every_repetition"]
        or not all(run["counts_same_every_repetition"] for run in case["runs"])
        # the module run alone must have done what it did under ansible-playbook
        or any(c != run["changed"] for run in case["runs"] for c in run.get("module_changed_all", []))
    ]
    if unstable:
        # counts and outcomes are deterministic; if a repetition differed, say so beside the table
        out += ["", f"**Counts or outcome differed between repetitions:** {', '.join(unstable)}"]
    if results["egress_attempts"]:
        out += ["", f"**Requests that tried to leave 127.0.0.1:** {results['egress_attempts']}"]
    return "\n".join(out) + "\n"
