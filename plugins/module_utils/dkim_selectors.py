# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dkim role's choices: which selector each domain signs with, which keys the host must
hold, and where they live. Pure functions over the role's inputs and what the host says (the
selector state file), used by the role through filters (plugins/filter/dkim.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def active_selectors(
    domains: Iterable[str],
    first_selector: str,
    imported: Iterable[Mapping] = (),
    state: Mapping | None = None,
    selector: str = "",
) -> dict:
    """{domain: selector} in the order of `domains`: the selector each domain signs with, by
    precedence `selector` (dkim_selector, when given) > the host's state (the last run's, after a
    rotation the rotation's) > an imported key's (the last one given for the domain) > the first
    run's (dkim_first_selector). The order is the domains', whatever the sources', so the tables
    written from it come out the same on every run."""
    chosen = {}
    found = dict(state or {})
    imports = {key["domain"]: key["selector"] for key in imported}
    for domain in domains:
        if selector:
            chosen[domain] = selector
        elif domain in found:
            chosen[domain] = found[domain]
        else:
            chosen[domain] = imports.get(domain, first_selector)
    return chosen


def selectors_to_hold(active: Mapping, next_selector: str = "") -> list[dict]:
    """The selectors the host must hold a key for, {domain, selector, signing}: each domain's
    signing one and, during a rotation (`next_selector` given), the next one of each domain not
    already signing with it."""
    held = [{"domain": domain, "selector": chosen, "signing": True} for domain, chosen in active.items()]
    if next_selector:
        held += [
            {"domain": domain, "selector": next_selector, "signing": False}
            for domain, chosen in active.items()
            if chosen != next_selector
        ]
    return held


def keys_to_hold(selectors: Iterable[Mapping], signers: Iterable[Mapping]) -> list[dict]:
    """One key per selector and signer, {domain, selector, signing, algorithm}: a signer's keys
    carry its suffix (the Ed25519 signer's `-ed25519`), so two algorithms never share a DNS name."""
    signers = list(signers)
    return [
        {**entry, "selector": entry["selector"] + signer["suffix"], "algorithm": signer["algorithm"]}
        for entry in selectors
        for signer in signers
    ]


def key_files(keys: Iterable[Mapping], key_dir: str) -> list[str]:
    """Each key's private file: KEY_DIR/DOMAIN/SELECTOR.private."""
    return [f"{key_dir}/{key['domain']}/{key['selector']}.private" for key in keys]
