"""lms.mail.dns over the Cloudflare and DigitalOcean API emulators, driven by the real providers: the
zones on Cloudflare, the reverse DNS on DigitalOcean (the droplet's name), each provider with
its own token from the controller's environment. No secret is in the tasks then, so they are
not no_log: the modules' own item labels and --diff stay visible."""

from __future__ import annotations

from pathlib import Path

from tests.dns.emulators import CloudflareEmulator, DigitalOceanEmulator
from tests.dns_role.playbook import run_role
from tests.dns_role.records import DOMAIN, HOST, IPV4, SELECTOR, dkim_records

OFFICE_SPF = '"v=spf1 include:_spf.office.test ~all"'
VERIFICATION = '"site-verification=Zm9vYmFyYmF6"'


def test_cloudflare_zones_and_digitalocean_reverse_dns(
    cloudflare_api: CloudflareEmulator,
    digitalocean_api: DigitalOceanEmulator,
    dkim_keys: tuple[str, str],
    tmp_path: Path,
) -> None:
    cloudflare_api.add_zone(DOMAIN)
    cloudflare_api.add_zone("office.test")  # the include target, so the lookup count stays local
    cloudflare_api.seed_record("office.test", "_spf.office.test", "TXT", '"v=spf1 ip4:198.51.100.0/24 -all"')
    cloudflare_api.seed_record(DOMAIN, DOMAIN, "TXT", OFFICE_SPF)
    cloudflare_api.seed_record(DOMAIN, DOMAIN, "TXT", VERIFICATION)
    droplet = digitalocean_api.add_droplet("web-1", IPV4)
    # the forward check reads the host name through the PTR's provider when it holds the zone
    digitalocean_api.add_domain(DOMAIN)
    digitalocean_api.seed_record(DOMAIN, "moodle", "A", IPV4)
    records = dkim_records(DOMAIN, *dkim_keys)
    variables = {
        "mail_domain": DOMAIN,
        "mail_hostname": HOST,
        "mail_transport": "direct",
        "dns_public_ipv4": IPV4,
        "dkim_dns_records": records,
        "dns_provider": "cloudflare",
        "dns_api_base_url": cloudflare_api.base_url,
        "dns_ptr_provider": "digitalocean",
        "dns_ptr_provider_options": {"api_base_url": digitalocean_api.base_url},
        # never the machine's resolvers: a name the emulators do not hold fails here, on a
        # loopback port nothing answers, instead of being asked outside
        "dns_resolver": ["127.0.0.1"],
        "dns_resolver_port": 9,
    }
    # each provider's token only in its own variable: a Cloudflare token sent to DigitalOcean
    # (or the reverse) is refused by the emulators
    env = {"CLOUDFLARE_API_TOKEN": "cf-test-token", "DIGITALOCEAN_TOKEN": "do-test-token"}

    first = run_role(tmp_path, variables, "--diff", env=env)
    assert first.returncode == 0, first.output
    assert first.recap()["changed"] == 4
    txt = sorted(r["content"] for r in cloudflare_api.find(DOMAIN, DOMAIN, "TXT"))
    assert txt == sorted([f'"v=spf1 include:_spf.office.test ip4:{IPV4} ~all"', VERIFICATION])
    for record in records:
        assert len(cloudflare_api.find(DOMAIN, record["name"], "TXT")) == 1
    assert len(cloudflare_api.find(DOMAIN, f"_dmarc.{DOMAIN}", "TXT")) == 1
    assert digitalocean_api.droplets[droplet]["name"] == HOST
    # not no_log: the modules' own diff and labels are printed
    assert f"--- before: {DOMAIN} TXT (before)" in first.output
    assert f"(item={SELECTOR}._domainkey.{DOMAIN} TXT)" in first.output
    assert "censored" not in first.output
    assert "cf-test-token" not in first.output and "do-test-token" not in first.output

    cloudflare_api.clear_log()
    digitalocean_api.clear_log()
    second = run_role(tmp_path, variables, env=env)
    assert second.returncode == 0, second.output
    assert second.recap()["changed"] == 0
    assert cloudflare_api.writes() == [] and digitalocean_api.writes() == []
