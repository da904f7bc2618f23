"""The provider registry (module_utils/dns_registry.py) is the one list of DNS providers: the
modules' options and factory read it, and everything written elsewhere about the providers (the
doc fragment, the dns role's variables and argument specs, the preflight's library check) is
checked against it here. A fourth provider, kept in memory (memory_provider.py, one file), is added to
the registry alone and the record modules run against it. No DNS, no network."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml
from ansible_collections.lms.mail.plugins.doc_fragments.dns_provider import ModuleDocFragment
from ansible_collections.lms.mail.plugins.filter.controller import PROVIDER_LIBRARIES
from ansible_collections.lms.mail.plugins.module_utils import dns_registry
from ansible_collections.lms.mail.plugins.module_utils.dns_options import (
    provider_argument_spec,
    provider_required_if,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import Record
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import (
    PROVIDERS,
    ProviderEntry,
    build_provider,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_rfc2136 import (
    DEFAULT_TSIG_ALGORITHM,
    TSIG_ALGORITHMS,
)
from ansible_collections.lms.mail.plugins.module_utils.requirements import LIBRARIES

from tests.dns.modules import run_module
from tests.unit.plugins.module_utils.memory_provider import MemoryProvider

ROOT = pathlib.Path(__file__).resolve().parents[4]
NAMES = list(PROVIDERS)
# the least each provider is built from; nothing is contacted when a provider is made
MINIMAL_OPTIONS = {
    "cloudflare": {"api_token": "t", "api_base_url": "http://127.0.0.1:9/client/v4"},
    "digitalocean": {"api_token": "t", "api_base_url": "http://127.0.0.1:9/v2"},
    "rfc2136": {"server": "127.0.0.1"},
}


def role_file(*parts: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / "dns" / pathlib.Path(*parts)).read_text())


def fragment_options() -> dict:
    return yaml.safe_load(ModuleDocFragment.DOCUMENTATION)


def test_every_registered_provider_is_built_by_the_factory():
    assert set(MINIMAL_OPTIONS) == set(NAMES), "a new provider needs its minimal options in this test"
    for name, entry in PROVIDERS.items():
        provider = build_provider({"provider": name, "timeout": 10.0, **MINIMAL_OPTIONS[name]})
        assert isinstance(provider, entry.provider_class)
        assert set(entry.libraries) <= set(LIBRARIES)


def test_the_modules_choices_and_required_options_are_the_registry():
    spec = provider_argument_spec()
    assert spec["provider"]["choices"] == NAMES
    assert spec["tsig_key_algorithm"]["choices"] == list(TSIG_ALGORITHMS)
    assert spec["tsig_key_algorithm"]["default"] == DEFAULT_TSIG_ALGORITHM
    assert provider_required_if() == [("provider", "rfc2136", ("server",))]
    for entry in PROVIDERS.values():
        assert set(entry.required) <= set(spec), entry.name


def test_the_doc_fragment_says_what_the_registry_says():
    doc = fragment_options()
    options = doc["options"]
    assert options["provider"]["choices"] == NAMES
    assert options["tsig_key_algorithm"]["choices"] == list(TSIG_ALGORITHMS)
    assert options["tsig_key_algorithm"]["default"] == DEFAULT_TSIG_ALGORITHM
    assert set(options) == set(provider_argument_spec())
    token_text = " ".join(options["api_token"]["description"])
    requirements = doc["requirements"]
    for entry in PROVIDERS.values():
        for variable in entry.token_environment:
            assert f"E({variable})" in token_text, (entry.name, variable)
        for name in entry.libraries:
            library = LIBRARIES[name]
            lowest = ".".join(map(str, library.lowest))
            below = ".".join(map(str, library.below))
            line = next(line for line in requirements if line.startswith(library.package + " "))
            assert f">= {lowest}, < {below}" in line and f"V({entry.name})" in line, line


def test_the_dns_role_variables_follow_the_registry():
    variables = role_file("vars", "main.yml")
    assert variables["__dns_token_environment"] == {
        **{name: list(entry.token_environment) for name, entry in PROVIDERS.items()},
        "none": [],
    }
    # the options the role hands the modules are the modules' options
    handed = set(re.findall(r"'(\w+)': dns_\w+", variables["__dns_options"]))
    assert handed and handed <= set(provider_argument_spec())
    assert role_file("defaults", "main.yml")["dns_tsig_key_algorithm"] == DEFAULT_TSIG_ALGORITHM


def test_the_dns_role_argument_specs_follow_the_registry():
    for entry_point in ("main", "validate"):
        options = role_file("meta", "argument_specs.yml")["argument_specs"][entry_point]["options"]
        assert options["dns_provider"]["choices"] == [*NAMES, "none"]
        assert options["dns_ptr_provider"]["choices"] == [*NAMES, "none"]
        assert options["dns_tsig_key_algorithm"]["choices"] == list(TSIG_ALGORITHMS)
        assert options["dns_tsig_key_algorithm"]["default"] == DEFAULT_TSIG_ALGORITHM
        ptr_options = options["dns_ptr_provider_options"]["options"]
        assert ptr_options["tsig_key_algorithm"]["choices"] == list(TSIG_ALGORITHMS)
        assert set(ptr_options) <= set(provider_argument_spec())


def test_the_preflight_checks_the_registry_libraries():
    assert list(PROVIDER_LIBRARIES) == ["none", *NAMES]
    for name, entry in PROVIDERS.items():
        assert set(entry.libraries) <= set(PROVIDER_LIBRARIES[name])


# -- a fourth provider: its own file (memory_provider.py) and one registry entry, nothing else ---


@pytest.fixture
def memory(monkeypatch):
    """The registry with the memory provider added: the one change a new provider needs."""
    monkeypatch.setitem(PROVIDERS, "memory", ProviderEntry("memory", MemoryProvider, libraries=()))
    zones = {
        "school.test": [
            Record("school.test", "TXT", "site-verification=abc"),
            Record("mail.school.test", "A", "192.0.2.25"),
        ],
        "2.0.192.in-addr.arpa": [],
    }
    monkeypatch.setattr(MemoryProvider, "zones", zones)
    monkeypatch.setattr(MemoryProvider, "writes", [])
    return zones


def values(zones, name, rtype):
    return sorted(r.value for records in zones.values() for r in records if (r.name, r.type) == (name, rtype))


def test_a_fourth_provider_in_the_registry_alone_serves_every_record_module(memory):
    task = {"provider": "memory"}
    spf = {**task, "domain": "school.test", "mechanisms": ["ip4:192.0.2.25"]}
    assert run_module("spf_record", spf, check_mode=True)["changed"]
    assert values(memory, "school.test", "TXT") == ["site-verification=abc"]  # check mode wrote nothing
    first = run_module("spf_record", spf)
    assert first["changed"] and first["record"] == "v=spf1 ip4:192.0.2.25 ~all"
    assert values(memory, "school.test", "TXT") == ["site-verification=abc", "v=spf1 ip4:192.0.2.25 ~all"]
    assert not run_module("spf_record", spf)["changed"]

    dmarc = run_module("dmarc_record", {**task, "domain": "school.test", "policy": "none"})
    assert dmarc["changed"] and values(memory, "_dmarc.school.test", "TXT") == ["v=DMARC1; p=none"]

    dkim = {
        **task,
        "domain": "school.test",
        "selector": "s1",
        "public_key": "p=" + "A" * 43 + "=",  # a 32-byte Ed25519 key
        "key_type": "ed25519",
    }
    assert run_module("dkim_record", dkim)["changed"]
    assert not run_module("dkim_record", dkim)["changed"]

    ptr = {**task, "ip": "192.0.2.25", "hostname": "mail.school.test"}
    result = run_module("ptr_record", ptr)
    assert result["changed"] and result["fcrdns"], result
    assert values(memory, "25.2.0.192.in-addr.arpa", "PTR") == ["mail.school.test"]
    assert not run_module("ptr_record", ptr)["changed"]


def test_without_its_registry_entry_the_provider_is_refused():
    result = run_module("spf_record", {"provider": "memory", "domain": "school.test"})
    assert result["failed"] and "memory" in result["msg"] and "cloudflare" in result["msg"]


def test_the_factory_names_an_unknown_provider():
    with pytest.raises(dns_registry.DnsError, match="unknown DNS provider 'memory'"):
        dns_registry.provider_entry("memory")
