# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report lines of lms.mail.mail_dns_info: what a receiver finds in one domain's DNS, as the
verify role shows and writes it. Pure Python over the module's result, no DNS."""

from __future__ import annotations

from collections.abc import Mapping


def _spf_lines(spf: Mapping) -> list[str]:
    results = spf.get("results") or {}
    if not results:
        return [f"  SPF {spf.get('record') or 'none'}"]
    lines = []
    for ip, outcome in results.items():
        how = f" ({outcome['mechanism']})" if outcome.get("mechanism") else ""
        lines.append(f"  SPF {outcome.get('result', '')} for {ip}{how}")
    return lines


def _dkim_line(dkim: Mapping) -> str:
    if not dkim.get("found"):
        return f"  DKIM {dkim.get('name', '')}: nothing published"
    found = f"{dkim.get('key_type') or 'unknown'} key published"
    if dkim.get("matches") is not None:
        found += ", the signing key" if dkim["matches"] else ", NOT the signing key"
    return f"  DKIM {dkim.get('name', '')}: {found}"


def _ptr_line(ip: str, ptr: Mapping) -> str:
    names = ", ".join(ptr.get("names") or []) or "none"
    confirmed = "forward-confirmed" if ptr.get("fcrdns") else "NOT forward-confirmed"
    return f"  PTR {ip} -> {names}, {confirmed}"


def dns_report_lines(domain: str, result: Mapping) -> list[str]:
    """`DNS domain:`, then one line for each SPF result (one per address checked, or the record
    itself when no address was), each DKIM selector, the DMARC record and each PTR checked."""
    lines = [f"DNS {domain}:"]
    lines += _spf_lines(result.get("spf") or {})
    lines += [_dkim_line(dkim) for dkim in (result.get("dkim") or {}).values()]
    lines.append(f"  DMARC {(result.get('dmarc') or {}).get('record') or 'none'}")
    lines += [_ptr_line(ip, ptr) for ip, ptr in (result.get("ptr") or {}).items()]
    return lines
