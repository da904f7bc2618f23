"""lms.mail.dns as site.yml runs it, against the real BIND of tests/dns/bind.py over RFC 2136
with TSIG: what each transport publishes, merging into what the zone already holds, a second
run that changes nothing, check and diff mode, `dns_provider: none`, bad input stopped before
any write, and the TSIG secret never in the output. Every record is read back with dnspython."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.reversename

from tests.dns.bind import BindServer
from tests.dns_role.playbook import RoleRun, run_role
from tests.dns_role.records import DOMAIN, HOST, IPV4, IPV6, dkim_records

ZONES = ["school.test", "office.test", "empty.test", "2.0.192.in-addr.arpa", "8.b.d.0.1.0.0.2.ip6.arpa"]
BASELINE_SPF = "v=spf1 include:_spf.office.test ~all"
VERIFICATION = "google-site-verification=abc123-keep-me"


def serials(bind: BindServer) -> dict[str, int]:
    """Each zone's SOA serial: BIND raises it on every update, so equal serials mean no write."""
    return {zone: bind.serial(zone) for zone in ZONES}


def reverse(ip: str) -> str:
    return dns.reversename.from_address(ip).to_text().rstrip(".")


def ptr(bind: BindServer, ip: str) -> list[str]:
    return sorted(r.target.to_text().rstrip(".") for r in bind.query(reverse(ip), "PTR"))


def spf(bind: BindServer, name: str) -> list[str]:
    return [value for value in bind.txt(name) if value.startswith("v=spf1")]


def assert_ok(run: RoleRun, secret: str) -> None:
    assert run.returncode == 0, run.output
    assert secret not in run.output


def test_direct_publishes_every_record_then_changes_nothing(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path
) -> None:
    variables = {**server_vars, "dns_public_ipv6": IPV6, "dns_dmarc_rua": [f"dmarc@{DOMAIN}"]}
    secret = bind_zones.key_secret

    first = run_role(tmp_path, variables, "--diff")
    assert_ok(first, secret)
    assert first.recap()["changed"] == 4  # the SPF, DKIM, DMARC and PTR tasks
    merged = f"v=spf1 include:_spf.office.test ip4:{IPV4} ip6:{IPV6} ~all"
    # --diff: the no_log tasks' diffs are hidden, the role shows the lines that went and came
    assert f'- {DOMAIN}. 3600 IN TXT "{BASELINE_SPF}"' in first.flat
    assert f'+ {DOMAIN}. 3600 IN TXT "{merged}"' in first.flat
    assert f'- {DOMAIN}. 3600 IN TXT "{VERIFICATION}"' not in first.flat  # unchanged: not shown
    assert bind_zones.txt(DOMAIN) == sorted([VERIFICATION, merged])
    for record in variables["dkim_dns_records"]:
        assert bind_zones.txt(record["name"]) == [record["value"]]
    # another selector's key at the same domain is not the role's to touch
    assert len(bind_zones.txt(f"other._domainkey.{DOMAIN}")) == 1
    assert bind_zones.txt(f"_dmarc.{DOMAIN}") == [f"v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"]
    assert ptr(bind_zones, IPV4) == [HOST] and ptr(bind_zones, IPV6) == [HOST]
    assert ptr(bind_zones, "192.0.2.25") == ["mail.school.test"]
    assert "forward-confirmed reverse DNS does not hold" not in first.output
    assert first.published == [
        {"kind": "spf", "name": DOMAIN, "type": "TXT", "value": merged},
        *[
            {"kind": "dkim", "name": r["name"], "type": "TXT", "value": r["value"]}
            for r in variables["dkim_dns_records"]
        ],
        {
            "kind": "dmarc",
            "name": f"_dmarc.{DOMAIN}",
            "type": "TXT",
            "value": "v=DMARC1; p=none; rua=mailto:dmarc@school.test",
        },
        {"kind": "ptr", "name": reverse(IPV4), "type": "PTR", "value": HOST},
        {"kind": "ptr", "name": reverse(IPV6), "type": "PTR", "value": HOST},
    ]
    # the no_log tasks' labels are hidden: the list before them names every record
    for name in [DOMAIN, *(r["name"] for r in variables["dkim_dns_records"]), reverse(IPV4), reverse(IPV6)]:
        assert f"(item={name} " in first.output

    before = serials(bind_zones)
    # -vvv prints every module's arguments and result: the secret must not be among them
    second = run_role(tmp_path, variables, "-vvv")
    assert_ok(second, secret)
    assert second.recap()["changed"] == 0
    assert serials(bind_zones) == before
    assert second.published == first.published


def test_an_existing_spf_record_is_merged_never_doubled_and_other_txt_kept(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path
) -> None:
    bind_zones.add("empty.test", "empty.test", "TXT", "v=spf1 mx include:_spf.office.test -all")
    bind_zones.add("empty.test", "empty.test", "TXT", "site-verification=Zm9vYmFy")
    variables = {
        **server_vars,
        "mail_domain": "empty.test",
        # mx is there already: kept where it is, not added twice
        "dns_spf_extra_mechanisms": ["mx", "ip4:203.0.113.0/24"],
        "dns_manage_dkim": False,
        "dns_manage_dmarc": False,
        "dns_manage_ptr": False,
    }
    reverse_serial = bind_zones.serial("2.0.192.in-addr.arpa")
    run = run_role(tmp_path, variables)
    assert_ok(run, bind_zones.key_secret)
    assert run.recap()["changed"] == 1
    assert bind_zones.txt("empty.test") == sorted(
        [
            f"v=spf1 mx include:_spf.office.test ip4:{IPV4} ip4:203.0.113.0/24 -all",
            "site-verification=Zm9vYmFy",
        ]
    )
    assert (
        bind_zones.txt("_dmarc.empty.test") == []
        and bind_zones.serial("2.0.192.in-addr.arpa") == reverse_serial
    )


def test_check_mode_on_a_fresh_zone_reports_the_changes_and_writes_nothing(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path, dkim_keys: tuple[str, str]
) -> None:
    variables = {
        **server_vars,
        "mail_domain": "empty.test",
        "mail_hostname": "moodle.empty.test",
        "dns_public_ipv4": "192.0.2.27",
        "dkim_dns_records": dkim_records("empty.test", *dkim_keys),
    }
    before = serials(bind_zones)
    run = run_role(tmp_path, variables, "--check")
    assert_ok(run, bind_zones.key_secret)
    assert run.recap()["changed"] == 4
    assert serials(bind_zones) == before
    assert bind_zones.txt("empty.test") == [] and ptr(bind_zones, "192.0.2.27") == []
    assert "would be: v=spf1 ip4:192.0.2.27 ~all" in run.flat
    assert run.published is not None
    assert run.published[0] == {
        "kind": "spf",
        "name": "empty.test",
        "type": "TXT",
        "value": "v=spf1 ip4:192.0.2.27 ~all",
    }


def test_dmarc_is_never_weakened_and_keeps_the_published_tags(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path
) -> None:
    bind_zones.add(
        "empty.test", "_dmarc.empty.test", "TXT", "v=DMARC1; p=quarantine; rua=mailto:reports@empty.test"
    )
    only_dmarc = {
        **server_vars,
        "mail_domain": "empty.test",
        "dns_manage_spf": False,
        "dns_manage_dkim": False,
        "dns_manage_ptr": False,
    }
    kept = run_role(tmp_path, only_dmarc)  # dns_dmarc_policy none, the default
    assert_ok(kept, bind_zones.key_secret)
    assert kept.recap()["changed"] == 0
    assert "_dmarc.empty.test keeps p=quarantine, stricter than the policy asked (none)" in kept.flat
    assert bind_zones.txt("_dmarc.empty.test") == ["v=DMARC1; p=quarantine; rua=mailto:reports@empty.test"]
    assert kept.published == [
        {
            "kind": "dmarc",
            "name": "_dmarc.empty.test",
            "type": "TXT",
            "value": "v=DMARC1; p=quarantine; rua=mailto:reports@empty.test",
        }
    ]

    tightened = run_role(tmp_path, {**only_dmarc, "dns_dmarc_policy": "reject", "dns_dmarc_adkim": "s"})
    assert_ok(tightened, bind_zones.key_secret)
    assert tightened.recap()["changed"] == 1
    assert bind_zones.txt("_dmarc.empty.test") == [
        "v=DMARC1; p=reject; adkim=s; rua=mailto:reports@empty.test"
    ]


def test_relay_public_publishes_dkim_and_dmarc_but_no_spf(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path, dkim_keys: tuple[str, str]
) -> None:
    records = dkim_records("empty.test", *dkim_keys)
    variables = {
        **server_vars,
        "mail_domain": "empty.test",
        "mail_transport": "relay_public",
        "dkim_dns_records": records,
    }
    reverse_serial = bind_zones.serial("2.0.192.in-addr.arpa")
    run = run_role(tmp_path, variables)
    assert_ok(run, bind_zones.key_secret)
    assert "SPF: nothing to publish for empty.test" in run.flat
    assert bind_zones.txt("empty.test") == []
    for record in records:
        assert bind_zones.txt(record["name"]) == [record["value"]]
    assert bind_zones.txt("_dmarc.empty.test") == ["v=DMARC1; p=none"]
    # through a relay, receivers never see this server's address: its PTR is left alone
    assert bind_zones.serial("2.0.192.in-addr.arpa") == reverse_serial
    assert [r["kind"] for r in run.published or []] == ["dkim", "dkim", "dmarc"]


def test_relay_corporate_allows_the_relay_not_the_server(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path
) -> None:
    variables = {
        **server_vars,
        "mail_transport": "relay_corporate",
        "dns_spf_relay_mechanisms": ["ip4:203.0.113.25"],
        "dns_manage_dkim": False,
    }
    run = run_role(tmp_path, variables)
    assert_ok(run, bind_zones.key_secret)
    assert spf(bind_zones, DOMAIN) == ["v=spf1 include:_spf.office.test ip4:203.0.113.25 ~all"]
    assert ptr(bind_zones, IPV4) == []


MARKER = "bWFya2VyLXNlY3JldC1kbnMtcm9sZS03ZjNl"  # a TSIG secret that must never be printed

BAD_INPUT = {
    # host: (its variables over the good ones, the variable the failure must name)
    "relay_corporate_without_terms": ({"mail_transport": "relay_corporate"}, "dns_spf_relay_mechanisms"),
    "rfc2136_without_key_name": ({"dns_tsig_key_name": ""}, "dns_tsig_key_name"),
    "unknown_provider": ({"dns_provider": "route53"}, "dns_provider"),
    "ipv4_not_an_address": ({"dns_public_ipv4": "2001:db8::26"}, "dns_public_ipv4"),
    "spf_all_as_a_term": ({"dns_spf_extra_mechanisms": ["-all"]}, "dns_spf_extra_mechanisms"),
    "dkim_records_not_a_list_of_dicts": ({"dkim_dns_records": ["v=DKIM1; p=abc"]}, "dns_dkim_records"),
    "dkim_record_bad_selector": (
        {"dkim_dns_records": [{"domain": DOMAIN, "selector": "two words", "value": "v=DKIM1; k=rsa; p=abc"}]},
        "dns_dkim_records",
    ),
    "dmarc_rua_not_an_address": ({"dns_dmarc_rua": ["reports at school"]}, "dns_dmarc_rua"),
    "ptr_provider_without_server": (
        {"dns_provider": "none", "dns_ptr_provider": "rfc2136"},
        "dns_ptr_provider_options",
    ),
}


def test_bad_input_fails_before_any_change_naming_the_variable(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path
) -> None:
    # one run, one local host per case: each fails on its own
    good = {**server_vars, "dns_tsig_key_secret": MARKER}
    hosts = {name: {**good, **overrides} for name, (overrides, _) in BAD_INPUT.items()}
    before = serials(bind_zones)
    run = run_role(tmp_path, {}, hosts=hosts)
    assert run.returncode != 0
    for name, (_, variable) in BAD_INPUT.items():
        assert run.recap(name)["failed"] == 1, run.output
        assert variable in run.failure(name), (name, run.failure(name))
    assert serials(bind_zones) == before
    assert MARKER not in run.output


def test_provider_none_prints_each_record_and_changes_nothing(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path, dkim_keys: tuple[str, str]
) -> None:
    variables = {
        key: value
        for key, value in server_vars.items()
        if not key.startswith(("dns_provider", "dns_server", "dns_port", "dns_tsig", "dns_resolver"))
    }
    # Moodle's own DKIM keys, handed over by the moodle role, are printed with the dkim role's
    variables.update(
        dns_public_ipv6=IPV6,
        moodle_dkim_selector="moodle",
        moodle_dkim_public_keys={DOMAIN: dkim_keys[0]},
        # the records files on the controller are tests/operator's: here, nothing written anywhere
        dns_records_dir="",
    )
    before = serials(bind_zones)
    run = run_role(tmp_path, variables)
    assert run.returncode == 0, run.output
    assert run.recap()["changed"] == 0 and serials(bind_zones) == before

    def zone_line(name: str, rtype: str, value: str) -> str:
        if rtype == "TXT":
            value = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
        return f"Publish by hand: {name}. IN {rtype} {value}"

    moodle_records = dkim_records(DOMAIN, dkim_keys[0], dkim_keys[1])[:1]
    moodle_value = moodle_records[0]["value"]
    expected = [
        zone_line(DOMAIN, "TXT", f"v=spf1 ip4:{IPV4} ip6:{IPV6} ~all"),
        *(zone_line(r["name"], "TXT", r["value"]) for r in variables["dkim_dns_records"]),
        zone_line(f"moodle._domainkey.{DOMAIN}", "TXT", moodle_value),
        zone_line(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=none"),
        zone_line(reverse(IPV4), "PTR", f"{HOST}."),
        zone_line(reverse(IPV6), "PTR", f"{HOST}."),
    ]
    for line in expected:
        assert line in run.flat, line
    assert run.flat.count("Publish by hand: ") == len(expected)
    assert "into the one SPF record, never a second" in run.flat


def test_retired_dkim_selectors_are_removed_and_the_others_kept(
    server_vars: dict[str, Any], bind_zones: BindServer, tmp_path: Path, dkim_keys: tuple[str, str]
) -> None:
    """What playbooks/rotate_dkim.yml asks once an old selector's overlap has passed: its record
    goes, the signing one stays, and a second run has nothing left to remove."""
    old, current = dkim_records("empty.test", *dkim_keys)
    retire_only = {
        **server_vars,
        "mail_domain": "empty.test",
        "dns_manage_spf": False,
        "dns_manage_dmarc": False,
        "dns_manage_ptr": False,
    }
    assert_ok(run_role(tmp_path, {**retire_only, "dkim_dns_records": [old, current]}), bind_zones.key_secret)
    assert bind_zones.txt(old["name"]) == [old["value"]]

    retired = [{"domain": "empty.test", "selector": old["selector"]}]
    variables = {**retire_only, "dkim_dns_records": [], "dns_dkim_retired": retired}
    first = run_role(tmp_path, variables)
    assert_ok(first, bind_zones.key_secret)
    assert first.recap()["changed"] == 1
    assert f"Remove: {old['name']}. IN TXT" in first.flat
    assert "no key to publish" not in first.flat
    assert bind_zones.txt(old["name"]) == []
    assert bind_zones.txt(current["name"]) == [current["value"]]
    assert run_role(tmp_path, variables).recap()["changed"] == 0
