# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The records a Moodle server's mail needs, as the dns role ensures them: SPF, DKIM, DMARC and
PTR, each {kind, name, type, value, provider, ttl, note}, listed before any is published (the
publishing tasks' output may be hidden by no_log) and printed whole for a person to enter. Pure
functions: the role's plugins/filter/mail_records.py calls them, the unit tests test them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible_collections.lms.mail.plugins.module_utils.dkim import key_name, key_record
from ansible_collections.lms.mail.plugins.module_utils.dns_records import reverse_name

SPF_ALL = "~all"  # a new SPF record's all term when none is asked for
SPF_NOTE = "merge {terms} into the one SPF record, never a second"
DKIM_NEXT_NOTE = "the next key of a rotation, not signing yet"
DMARC_NOTE = "a stricter policy already published is kept"
PTR_NOTE = "reverse DNS of {ip}, set where the reverse zone is (often the hosting company)"


class MailRecordsError(ValueError):
    """Settings the records cannot be built from; the message names the setting."""


def key_records(public_keys: Mapping[str, str], selector: str, key_type: str = "rsa") -> list[dict]:
    """Public keys given as {domain: PEM} that sign with one selector (Moodle's own signer), as
    DKIM records in the dkim role's shape: {domain, selector, algorithm, signing, name, type, value}."""
    if not isinstance(public_keys, Mapping):
        raise MailRecordsError(
            f"the public keys must be a mapping of domain: PEM, not {type(public_keys).__name__}"
        )
    if public_keys and not selector:
        raise MailRecordsError("public keys given without the selector they sign with")
    return [
        {
            "domain": domain,
            "selector": selector,
            "algorithm": key_type,
            "signing": True,
            "name": key_name(domain, selector),
            "type": "TXT",
            "value": key_record(str(pem), key_type)[0],
        }
        for domain, pem in public_keys.items()
    ]


def _record(kind: str, name: str, rtype: str, value: str, provider: str, ttl, note: str) -> dict:
    return {
        "kind": kind,
        "name": name,
        "type": rtype,
        "value": value,
        "provider": provider,
        "ttl": ttl,
        "note": note,
    }


def mail_records(settings: Mapping) -> list[dict]:
    """Every record the role ensures, in the order it publishes them. settings (a list that is
    empty, or absent, is a kind the role does not manage):

    - spf_domains, spf_mechanisms, spf_all: one SPF record per domain, when there are terms to
      allow (a relay_public server has none);
    - dkim_records: the keys' records ({domain, selector, value, signing});
    - dmarc_domains, dmarc_value: one _dmarc record per domain;
    - ptr_addresses, ptr_hostname: one PTR per address, naming the host;
    - provider, ttl: the forward zones'; ptr_provider, ptr_ttl: the reverse zone's.
    """
    provider = settings.get("provider", "none")
    ttl = settings.get("ttl")
    records = []
    mechanisms = list(settings.get("spf_mechanisms") or [])
    if mechanisms:
        spf = " ".join(["v=spf1", *mechanisms, settings.get("spf_all") or SPF_ALL])
        note = SPF_NOTE.format(terms=" ".join(mechanisms))
        for domain in settings.get("spf_domains") or []:
            records.append(_record("spf", domain, "TXT", spf, provider, ttl, note))
    for key in settings.get("dkim_records") or []:
        try:
            name = key_name(key["domain"], key["selector"])
            value = key["value"]
        except (KeyError, TypeError):
            raise MailRecordsError(f"a DKIM record needs domain, selector and value: {key!r}") from None
        note = "" if key.get("signing", True) else DKIM_NEXT_NOTE
        records.append(_record("dkim", name, "TXT", value, provider, ttl, note))
    for domain in settings.get("dmarc_domains") or []:
        records.append(
            _record("dmarc", f"_dmarc.{domain}", "TXT", settings["dmarc_value"], provider, ttl, DMARC_NOTE)
        )
    for ip in settings.get("ptr_addresses") or []:
        try:
            name = reverse_name(ip)
        except ValueError:
            raise MailRecordsError(f"a PTR needs an IP address, not {ip!r}") from None
        records.append(
            _record(
                "ptr",
                name,
                "PTR",
                settings["ptr_hostname"],
                settings.get("ptr_provider", provider),
                settings.get("ptr_ttl"),
                PTR_NOTE.format(ip=ip),
            )
        )
    return records


def published_records(records: Iterable[Mapping], results: Iterable[Mapping]) -> list[dict]:
    """The records as the run left them, {kind, name, type, value}: each TXT value the module
    returned (an SPF record after the merge, a DMARC record with a stricter policy kept) in place
    of the one asked for. results: the modules' loop results; each names its record by `name`
    (dkim_record, dmarc_record) or by its loop item, the domain (spf_record). A record without
    a result (not published, or left to a person) keeps its value."""
    after = {}
    for result in results:
        if not isinstance(result, Mapping) or result.get("record") is None:
            continue
        name = result.get("name") or result.get("item")
        if isinstance(name, str):
            after[name] = result["record"]
    return [
        {
            "kind": record["kind"],
            "name": record["name"],
            "type": record["type"],
            "value": after.get(record["name"], record["value"]),
        }
        for record in records
    ]
