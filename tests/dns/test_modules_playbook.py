"""The modules as users run them: `ansible-playbook` with the repository's ansible.cfg, against
the test BIND. One play runs every module twice and asserts in Ansible itself; a second run
in --check --diff mode proves that nothing is written and that the diff is printed."""

from __future__ import annotations

from tests.dns.bind import BindServer
from tests.dns.modules import run_playbook


def _provider(bind: BindServer) -> dict:
    return bind.provider_args()


def test_playbook_publishes_everything_then_changes_nothing(bind_zones, tmp_path, rsa4096_pem):
    provider = _provider(bind_zones)
    resolver = {"resolver": [bind_zones.host], "resolver_port": bind_zones.port}
    spf = {
        "lms.mail.spf_record": {
            **provider,
            **resolver,
            "domain": "school.test",
            "mechanisms": ["ip4:192.0.2.25"],
        }
    }
    dkim = {
        "lms.mail.dkim_record": {
            **provider,
            "domain": "school.test",
            "selector": "s2025",
            "public_key": rsa4096_pem,
        }
    }
    dmarc = {"lms.mail.dmarc_record": {**provider, "domain": "school.test", "policy": "quarantine"}}
    ptr = {
        "lms.mail.ptr_record": {**provider, **resolver, "ip": "192.0.2.25", "hostname": "mail.school.test"}
    }
    info = {
        "lms.mail.mail_dns_info": {
            **resolver,
            "domain": "school.test",
            "ips": ["192.0.2.25"],
            "dkim_keys": {"s2025": rsa4096_pem},
            "hostname": "mail.school.test",
        }
    }
    tasks = []
    for run in ("first", "second"):
        for name, task in (("spf", spf), ("dkim", dkim), ("dmarc", dmarc), ("ptr", ptr)):
            tasks.append({"name": f"{name} ({run} run)", **task, "register": f"{name}_{run}"})
    tasks.append({"name": "what receivers see", **info, "register": "info"})
    tasks.append(
        {
            "name": "first run changed SPF, DKIM, DMARC (PTR was right); the second changed nothing",
            "ansible.builtin.assert": {
                "that": [
                    "spf_first is changed and dkim_first is changed and dmarc_first is changed",
                    "ptr_first is not changed and ptr_first.fcrdns",
                    "spf_second is not changed and dkim_second is not changed",
                    "dmarc_second is not changed and ptr_second is not changed",
                    "spf_second.record == 'v=spf1 include:_spf.office.test ip4:192.0.2.25 ~all'",
                    "info.spf.authorised['192.0.2.25']",
                    "info.dkim.s2025.matches and info.dkim.s2025.key_bits == 4096",
                    "info.dmarc.tags.p == 'quarantine'",
                    "info.ptr['192.0.2.25'].fcrdns",
                    "info.problems == []",
                ]
            },
        }
    )
    result = run_playbook(tmp_path, tasks)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "changed=3" in result.stdout  # spf, dkim, dmarc of the first run
    assert bind_zones.key_secret not in result.stdout + result.stderr
    assert "google-site-verification=abc123-keep-me" in bind_zones.txt("school.test")


def test_playbook_check_diff_writes_nothing_and_shows_before_after(bind_zones, tmp_path):
    task = {
        "lms.mail.spf_record": {
            **_provider(bind_zones),
            "resolver": [bind_zones.host],
            "resolver_port": bind_zones.port,
            "domain": "school.test",
            "mechanisms": ["mx"],
            "all": "-all",
        }
    }
    serial = bind_zones.serial("school.test")
    result = run_playbook(tmp_path, [task], "--check", "--diff")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "changed=1" in result.stdout
    out = result.stdout
    assert '-school.test. 3600 IN TXT "v=spf1 include:_spf.office.test ~all"' in out
    assert '+school.test. 3600 IN TXT "v=spf1 include:_spf.office.test mx -all"' in out
    assert bind_zones.serial("school.test") == serial
