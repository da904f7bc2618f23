# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SPF (RFC 7208): parse a record into ordered terms, merge mechanisms in place, count the
DNS lookups a receiver will make, and evaluate whether an IP address is authorised.

Merging keeps every term the task does not name exactly as the customer wrote it (text,
qualifier and position), because a customer's SPF record usually already authorises their
office mail service and must keep doing so.

DNS access goes through a small resolver interface (SpfResolver) so that this module has no
network code of its own: the modules give it a dnspython resolver pointed at whatever server
the user (or a test) names, or read through the DNS provider.

One simplification, allowed by RFC 7208 §7.3: the %{p} macro (the validated host name of the
client IP) always expands to "unknown". The RFC says it SHOULD NOT be used and that "unknown"
is what a receiver uses when it does not or cannot validate a name; evaluating it would cost a
PTR lookup and forward lookups on every expansion. A record that needs %{p} to match is
evaluated here as by such a receiver.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Protocol

# RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups, at most 2 of them "void"
LOOKUP_LIMIT = 10
VOID_LOOKUP_LIMIT = 2
MX_ADDRESS_LIMIT = 10

QUALIFIERS = "+-~?"
QUALIFIER_RESULTS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
# modifiers that may appear at most once; their identity is their name alone
SINGLE_MODIFIERS = ("redirect", "exp")
# A pass term wider than these lets a large part of the Internet send as the domain: the
# modules refuse to publish one unless asked to (spf_record's allow_wide). The same bounds as
# the roles' mynetworks rule.
WIDEST_IPV4_PREFIX = 8
WIDEST_IPV6_PREFIX = 32
# RFC 7208 section 4.6.1: terms are visible ASCII characters, separated by spaces
_VISIBLE = re.compile(r"[\x21-\x7e]+")

_MODIFIER_RE = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)")
_DIRECTIVE_RE = re.compile(
    r"(?P<q>[+\-~?]?)(?P<name>[A-Za-z][A-Za-z0-9_.\-]*)"
    r"(?::(?P<arg>[^/]*))?"
    r"(?:/(?P<c4>\d+))?(?://(?P<c6>\d+))?"
)


class SpfError(ValueError):
    """A record or a term that is not valid SPF; the message says which and why."""


class SpfTempError(Exception):
    """A DNS failure (timeout, SERVFAIL) while reading SPF data: RFC 7208's temperror."""


class SpfResolver(Protocol):
    """What evaluation needs from DNS. Names without trailing dot; [] means no data or NXDOMAIN;
    raise SpfTempError for timeouts and server failures."""

    def txt(self, name: str) -> list[str]: ...

    def a(self, name: str) -> list[str]: ...

    def aaaa(self, name: str) -> list[str]: ...

    def mx(self, name: str) -> list[str]: ...

    def ptr(self, ip: str) -> list[str]: ...


@dataclasses.dataclass(frozen=True)
class Term:
    """One SPF term, kept with its original text so an untouched term is never reformatted."""

    text: str
    name: str  # lower-case mechanism or modifier name
    qualifier: str = ""  # "" for modifiers and for directives written without one (means "+")
    arg: str = ""  # the domain-spec, address or modifier value
    cidr4: int | None = None
    cidr6: int | None = None
    modifier: bool = False

    @property
    def effective_qualifier(self) -> str:
        return self.qualifier or ("" if self.modifier else "+")

    def key(self) -> tuple:
        """Identity for merging: the same mechanism and target, whatever the qualifier."""
        if self.modifier:
            if self.name in SINGLE_MODIFIERS:
                return ("modifier", self.name)
            return ("modifier", self.name, self.arg)
        if self.name in ("ip4", "ip6"):
            return (self.name, _network_key(self))
        if self.name in ("a", "mx"):
            cidr4 = 32 if self.cidr4 is None else self.cidr4
            cidr6 = 128 if self.cidr6 is None else self.cidr6
            return (self.name, _domain_key(self.arg), cidr4, cidr6)
        return (self.name, _domain_key(self.arg))


def _domain_key(domain: str) -> str:
    return domain.rstrip(".").lower()


def _network_key(term: Term) -> str:
    prefix = term.cidr4 if term.name == "ip4" else term.cidr6
    text = term.arg if prefix is None else f"{term.arg}/{prefix}"
    return str(ipaddress.ip_network(text, strict=False))


def parse_term(text: str) -> Term:
    """Parse one term; SpfError when it is not valid SPF syntax. A term is one word of visible
    ASCII: a blank or a control character (a newline) anywhere in it is refused, never stripped."""
    raw = text
    if not raw:
        raise SpfError("empty SPF term")
    if not _VISIBLE.fullmatch(raw):
        raise SpfError(
            f"SPF term {raw!r} contains a blank, a control or a non-ASCII character: "
            "give one term per list item, e.g. 'ip4:192.0.2.10'"
        )
    modifier = _MODIFIER_RE.fullmatch(raw)
    if modifier:
        name = modifier.group(1).lower()
        value = modifier.group(2)
        if name in SINGLE_MODIFIERS and not value:
            raise SpfError(f"SPF modifier {raw!r} needs a domain")
        return Term(text=raw, name=name, arg=value, modifier=True)
    match = _DIRECTIVE_RE.fullmatch(raw)
    if not match:
        raise SpfError(f"not a valid SPF term: {raw!r}")
    name = match.group("name").lower()
    if name not in MECHANISMS:
        raise SpfError(f"unknown SPF mechanism {match.group('name')!r} in {raw!r}")
    qualifier = match.group("q")
    arg = match.group("arg")
    c4 = match.group("c4")
    c6 = match.group("c6")
    cidr4 = int(c4) if c4 is not None else None
    cidr6 = int(c6) if c6 is not None else None
    term_arg = arg or ""
    if name == "all":
        if arg is not None or cidr4 is not None or cidr6 is not None:
            raise SpfError(f"'all' takes no argument: {raw!r}")
    elif name in ("include", "exists"):
        if not arg:
            raise SpfError(f"{name} needs a domain: {raw!r}")
        if cidr4 is not None or cidr6 is not None:
            raise SpfError(f"{name} takes no prefix length: {raw!r}")
    elif name == "ptr":
        if cidr4 is not None or cidr6 is not None:
            raise SpfError(f"ptr takes no prefix length: {raw!r}")
    elif name in ("ip4", "ip6"):
        term_arg, cidr4, cidr6 = _parse_ip_arg(name, raw, arg, cidr4, cidr6)
    elif name in ("a", "mx"):
        if arg == "":
            raise SpfError(f"{name}: needs a domain after the colon: {raw!r}")
        if cidr4 is not None and cidr4 > 32:
            raise SpfError(f"IPv4 prefix length above 32 in {raw!r}")
        if cidr6 is not None and cidr6 > 128:
            raise SpfError(f"IPv6 prefix length above 128 in {raw!r}")
    if term_arg and name in ("include", "exists", "a", "mx", "ptr"):
        _check_domain_spec(term_arg, raw)
    return Term(text=raw, name=name, qualifier=qualifier, arg=term_arg, cidr4=cidr4, cidr6=cidr6)


def _parse_ip_arg(
    name: str, raw: str, arg: str | None, cidr4: int | None, cidr6: int | None
) -> tuple[str, int | None, int | None]:
    if not arg:
        raise SpfError(f"{name} needs an address: {raw!r}")
    # the directive regex reads the one prefix length of ip4 and ip6 alike into cidr4
    address = arg
    prefix = cidr4
    if cidr6 is not None:
        raise SpfError(f"{name} takes one prefix length: {raw!r}")
    if "%" in address:
        raise SpfError(f"{name} takes an address without a %scope: {raw!r}")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise SpfError(f"{name} has an invalid address {address!r} in {raw!r}") from None
    if (name == "ip4") != (ip.version == 4):
        raise SpfError(f"{name} needs an IPv{4 if name == 'ip4' else 6} address: {raw!r}")
    max_prefix = 32 if ip.version == 4 else 128
    if prefix is not None and not 0 <= prefix <= max_prefix:
        raise SpfError(f"invalid prefix length in {raw!r}")
    if name == "ip4":
        return address, prefix, None
    return address, None, prefix


_MACRO_RE = re.compile(r"%(?:\{[slodiphcrtvSLODIPHCRTV]\d*r?[.\-+,/_=]*\}|%|_|-)")


def _check_domain_spec(spec: str, raw: str) -> None:
    stripped = _MACRO_RE.sub("x", spec)
    if "%" in stripped:
        raise SpfError(f"invalid macro in {raw!r}")
    if " " in spec or not stripped.strip("."):
        raise SpfError(f"invalid domain in {raw!r}")


def too_wide(term: Term) -> str:
    """Why a term lets too much of the Internet pass as the domain ("" when it does not):
    +all, or a pass ip4/ip6/a/mx term covering more than a /8 (IPv4) or a /32 (IPv6)."""
    if term.modifier or term.effective_qualifier != "+":
        return ""
    if term.name == "all":
        return f"{term.text} lets every host on the Internet pass"
    if term.name in ("ip4", "ip6", "a", "mx"):
        v4 = None if term.name == "ip6" else term.cidr4
        v6 = None if term.name == "ip4" else term.cidr6
        if v4 is not None and v4 < WIDEST_IPV4_PREFIX:
            return (
                f"{term.text} lets {2 ** (32 - v4)} IPv4 addresses pass (wider than a /{WIDEST_IPV4_PREFIX})"
            )
        if v6 is not None and v6 < WIDEST_IPV6_PREFIX:
            return f"{term.text} covers an IPv6 network wider than a /{WIDEST_IPV6_PREFIX}"
    return ""


@dataclasses.dataclass
class SpfRecord:
    terms: list[Term]

    def __str__(self) -> str:
        return " ".join(["v=spf1", *(t.text for t in self.terms)])

    @property
    def directives(self) -> list[Term]:
        return [t for t in self.terms if not t.modifier]

    def find(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.name == name), None)


def is_spf(value: str) -> bool:
    """RFC 7208 §4.5: a record is SPF when it is exactly 'v=spf1' or starts with 'v=spf1 '."""
    lowered = value.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def parse_spf(value: str) -> SpfRecord:
    if not is_spf(value):
        raise SpfError(f"not an SPF record (must start with 'v=spf1'): {value!r}")
    terms = [parse_term(word) for word in value.split()[1:]]
    seen: set[str] = set()
    for term in terms:
        if term.modifier and term.name in SINGLE_MODIFIERS:
            if term.name in seen:
                raise SpfError(f"the {term.name}= modifier appears twice in {value!r}")
            seen.add(term.name)
    return SpfRecord(terms)


def _all_term(qualifier: str) -> Term:
    return parse_term(f"{qualifier}all")


def _insert_directive(terms: list[Term], term: Term) -> None:
    """Put a new directive before 'all' (anything after 'all' is never evaluated), otherwise
    after the last directive, so modifiers stay at the end."""
    for index, existing in enumerate(terms):
        if existing.name == "all" and not existing.modifier:
            terms.insert(index, term)
            return
    last = max((i for i, t in enumerate(terms) if not t.modifier), default=-1)
    terms.insert(last + 1, term)


def parse_all_qualifier(value: str) -> str:
    """'~all', '-all', '?all', '+all' (or just the qualifier) -> the qualifier character."""
    text = value.strip().lower()
    if text.endswith("all"):
        text = text[:-3]
    if text == "":
        text = "+"
    if len(text) != 1 or text not in QUALIFIERS:
        raise SpfError(f"invalid 'all' setting {value!r}: use one of -all, ~all, ?all, +all")
    return text


def merge_spf(
    existing: str | None,
    present: Iterable[str] = (),
    absent: Iterable[str] = (),
    all_qualifier: str | None = None,
) -> str:
    """The SPF record after making the present terms present and the absent terms absent.

    Terms not named keep their text and order; a named term that is already there keeps its
    text unless its qualifier differs; new directives go just before 'all'. The 'all'
    qualifier changes only when all_qualifier is given; a new record gets '~all' by default.
    """
    record = parse_spf(existing) if existing is not None else SpfRecord([])
    terms = list(record.terms)
    wanted = [parse_term(t) for t in present]
    unwanted = [parse_term(t) for t in absent]
    for term in [*wanted, *unwanted]:
        if term.name == "all" and not term.modifier:
            raise SpfError("set the 'all' qualifier with the all option, not as a mechanism")

    unwanted_keys = {t.key() for t in unwanted}
    clash = unwanted_keys & {t.key() for t in wanted}
    if clash:
        raise SpfError("the same term is asked to be both present and absent")
    terms = [t for t in terms if t.key() not in unwanted_keys]

    for term in wanted:
        index = next((i for i, t in enumerate(terms) if t.key() == term.key()), None)
        if index is not None:
            current = terms[index]
            same_qualifier = current.effective_qualifier == term.effective_qualifier
            same_value = not term.modifier or current.arg == term.arg
            if not (same_qualifier and same_value):
                terms[index] = term
        elif term.modifier:
            terms.append(term)
        else:
            _insert_directive(terms, term)

    if all_qualifier is None and existing is None:
        all_qualifier = "~"
    if all_qualifier is not None:
        qualifier = parse_all_qualifier(all_qualifier)
        index = next((i for i, t in enumerate(terms) if t.name == "all" and not t.modifier), None)
        if index is None:
            _insert_directive(terms, _all_term(qualifier))
            # _insert_directive puts it after the last directive, which is what 'all' must be
        elif terms[index].effective_qualifier != qualifier:
            terms[index] = _all_term(qualifier)
    return str(SpfRecord(terms))


def combine_spf(values: list[str]) -> str:
    """One record from several (two SPF records are a permerror at every receiver).

    DNS returns an RRset in no fixed order (BIND rotates it), so the records are taken in sorted
    order to give the same result on every run: the first one's terms in their order, then terms
    only the others have; 'all' is the first one's (or the first found), ending the directives.
    """
    records = [parse_spf(v) for v in sorted(values)]
    directives: list[Term] = []
    modifiers: list[Term] = []
    all_term: Term | None = None
    keys: set[tuple] = set()
    for record in records:
        for term in record.terms:
            if term.name == "all" and not term.modifier:
                all_term = all_term or term
                continue
            if term.key() in keys:
                continue
            keys.add(term.key())
            (modifiers if term.modifier else directives).append(term)
    terms = directives + ([all_term] if all_term else []) + modifiers
    return str(SpfRecord(terms))


# ---------------------------------------------------------------------------------------------
# DNS lookup counting (RFC 7208 §4.6.4)


@dataclasses.dataclass
class LookupCount:
    domain: str
    count: int = 0
    limit: int = LOOKUP_LIMIT
    # the path to the term that first went over the limit: domain, include:..., ..., the term
    chain: list[str] | None = None
    # every target that could not be followed, as text; of those, the ones that make receivers
    # return permerror for the whole record, and the DNS failures (nothing known about them)
    problems: list[str] = dataclasses.field(default_factory=list)
    permerrors: list[str] = dataclasses.field(default_factory=list)
    temperrors: list[str] = dataclasses.field(default_factory=list)

    def _problem(self, text: str, kind: str = "") -> None:
        self.problems.append(text)
        if kind == "perm":
            self.permerrors.append(text)
        elif kind == "temp":
            self.temperrors.append(text)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    def message(self) -> str:
        if not self.exceeded:
            return f"SPF for {self.domain} needs {self.count} DNS lookups (limit {self.limit})"
        path = " -> ".join(self.chain or [self.domain])
        return (
            f"SPF for {self.domain} needs {self.count} DNS lookups, more than the limit of "
            f"{self.limit} (RFC 7208 section 4.6.4): receivers return permerror and treat the "
            f"mail as unauthenticated. Lookup {self.limit + 1} is reached through: {path}. "
            "Replace includes or a/mx mechanisms with ip4/ip6 ranges, or drop unused ones."
        )


def count_lookups(
    value: str, domain: str, txt_lookup: Callable[[str], list[str]], limit: int = LOOKUP_LIMIT
) -> LookupCount:
    """Count the lookup terms of value and, recursively, of every include and redirect target.

    txt_lookup(name) returns the TXT values at name. Unlike a receiver, the count does not stop
    at the limit, so the user sees how far over it is.
    """
    result = LookupCount(domain=domain, limit=limit)
    _count_record(value, [domain], txt_lookup, result, visited={domain.lower()}, budget=[50])
    return result


def _count_record(
    value: str,
    path: list[str],
    txt_lookup: Callable[[str], list[str]],
    result: LookupCount,
    visited: set[str],
    budget: list[int],
) -> None:
    try:
        record = parse_spf(value)
    except SpfError as exc:
        result._problem(f"{' -> '.join(path)}: {exc} (permerror)", "perm")
        return
    has_all = record.find("all") is not None
    for term in record.terms:
        counts = (not term.modifier and term.name in LOOKUP_MECHANISMS) or (
            term.modifier and term.name == "redirect" and not has_all
        )
        if not counts:
            continue
        result.count += 1
        if result.count == result.limit + 1 and result.chain is None:
            result.chain = [*path, term.text]
        if term.name not in ("include", "redirect"):
            continue
        target = term.arg.rstrip(".").lower()
        if "%" in target:
            # the target depends on the sender; it cannot be followed without one
            result.problems.append(f"{' -> '.join([*path, term.text])}: macro target not followed")
            continue
        if target in visited:
            result._problem(f"{' -> '.join([*path, term.text])}: include loop (permerror)", "perm")
            continue
        budget[0] -= 1
        if budget[0] < 0:
            return
        try:
            spf = [v for v in txt_lookup(target) if is_spf(v)]
        except SpfTempError as exc:
            result._problem(f"{' -> '.join([*path, term.text])}: temperror: {exc}", "temp")
            continue
        if len(spf) != 1:
            found = "no SPF record" if not spf else f"{len(spf)} SPF records"
            result._problem(f"{' -> '.join([*path, term.text])}: {target} has {found} (permerror)", "perm")
            continue
        _count_record(spf[0], [*path, term.text], txt_lookup, result, visited | {target}, budget)


# ---------------------------------------------------------------------------------------------
# Evaluation (RFC 7208 §4 check_host)


@dataclasses.dataclass(frozen=True)
class SpfResult:
    result: str  # pass, fail, softfail, neutral, none, permerror, temperror
    mechanism: str = ""  # the term that matched, prefixed with the domain whose record holds it
    reason: str = ""
    lookups: int = 0


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


class _Evaluator:
    def __init__(self, resolver: SpfResolver, ip: str, sender: str, helo: str):
        self.resolver = resolver
        self.ip = ipaddress.ip_address(ip)
        if isinstance(self.ip, ipaddress.IPv6Address) and self.ip.ipv4_mapped:
            self.ip = self.ip.ipv4_mapped
        self.sender = sender
        self.helo = helo
        self.lookups = 0
        self.void_lookups = 0
        self.matched = ""

    # -- DNS with RFC 7208's limits --------------------------------------------------------

    def _count_term(self) -> None:
        self.lookups += 1
        if self.lookups > LOOKUP_LIMIT:
            raise _PermError(f"more than {LOOKUP_LIMIT} DNS lookups")

    def _query(self, method: Callable[[str], list[str]], name: str, void_counts: bool = True) -> list[str]:
        try:
            answer = method(name)
        except SpfTempError as exc:
            raise _TempError(str(exc)) from None
        if not answer and void_counts:
            self.void_lookups += 1
            if self.void_lookups > VOID_LOOKUP_LIMIT:
                raise _PermError(f"more than {VOID_LOOKUP_LIMIT} void DNS lookups")
        return answer

    def _addresses(self, name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        method = self.resolver.a if self.ip.version == 4 else self.resolver.aaaa
        return [ipaddress.ip_address(a) for a in self._query(method, name)]

    # -- check_host --------------------------------------------------------------------------

    def check_host(self, domain: str, depth: int = 0) -> str:
        domain = domain.rstrip(".").lower()
        if depth > 20:
            raise _PermError("include/redirect nesting too deep")
        if not _valid_fqdn(domain):
            return "none"
        try:
            values = self.resolver.txt(domain)
        except SpfTempError as exc:
            raise _TempError(str(exc)) from None
        records = [v for v in values if is_spf(v)]
        if not records:
            return "none"
        if len(records) > 1:
            raise _PermError(f"{domain} has {len(records)} SPF records")
        try:
            record = parse_spf(records[0])
        except SpfError as exc:
            raise _PermError(str(exc)) from None
        for term in record.directives:
            if self._matches(term, domain, depth):
                # name the whole path: the include that matched, then what matched inside it
                inner = f" -> {self.matched}" if term.name == "include" else ""
                self.matched = f"{domain}: {term.text}{inner}"
                return QUALIFIER_RESULTS[term.effective_qualifier]
        redirect = record.find("redirect")
        if redirect is not None and record.find("all") is None:
            self._count_term()
            target = self._expand(redirect.arg, domain)
            result = self.check_host(target, depth + 1)
            if result == "none":
                raise _PermError(f"redirect target {target} has no SPF record")
            if self.matched:
                self.matched = f"{domain}: {redirect.text} -> {self.matched}"
            return result
        return "neutral"

    def _matches(self, term: Term, domain: str, depth: int) -> bool:
        name = term.name
        if name == "all":
            return True
        if name == "ip4" or name == "ip6":
            network = ipaddress.ip_network(_network_key(term), strict=False)
            return self.ip.version == network.version and self.ip in network
        if name == "include":
            self._count_term()
            self.matched = ""
            result = self.check_host(self._expand(term.arg, domain), depth + 1)
            if result == "pass":
                return True
            if result in ("fail", "softfail", "neutral"):
                self.matched = ""  # what matched inside a non-matching include is no answer
                return False
            if result == "temperror":
                raise _TempError(f"include:{term.arg} gave temperror")
            raise _PermError(f"include:{term.arg} gave {result}")
        target = self._expand(term.arg, domain) if term.arg else domain
        if name == "a":
            self._count_term()
            return self._in_any(self._addresses(target), term)
        if name == "mx":
            self._count_term()
            hosts = self._query(self.resolver.mx, target)
            if len(hosts) > MX_ADDRESS_LIMIT:
                raise _PermError(f"{target} has more than {MX_ADDRESS_LIMIT} MX records")
            return any(self._in_any(self._addresses(host), term) for host in hosts)
        if name == "ptr":
            self._count_term()
            return target in self._validated_names(target)
        if name == "exists":
            self._count_term()
            return bool(self._query(self.resolver.a, target))
        raise _PermError(f"unknown mechanism {name}")

    def _in_any(self, addresses: list, term: Term) -> bool:
        if self.ip.version == 4:
            prefix = term.cidr4 if term.cidr4 is not None else 32
        else:
            prefix = term.cidr6 if term.cidr6 is not None else 128
        for address in addresses:
            if address.version != self.ip.version:
                continue
            if self.ip in ipaddress.ip_network(f"{address}/{prefix}", strict=False):
                return True
        return False

    def _validated_names(self, target: str) -> set[str]:
        """The ptr mechanism: names of the IP whose forward lookup confirms it, matched to target."""
        names = self._query(self.resolver.ptr, str(self.ip))[:10]
        matched = set()
        for name in names:
            name = name.rstrip(".").lower()
            if not (name == target or name.endswith("." + target)):
                continue
            try:
                if self.ip in self._addresses(name):
                    matched.add(target)
            except _TempError:
                continue
        return matched

    # -- macros (RFC 7208 §7) -----------------------------------------------------------------

    def _expand(self, spec: str, domain: str) -> str:
        if "%" not in spec:
            return spec.rstrip(".").lower()
        out = []
        i = 0
        while i < len(spec):
            ch = spec[i]
            if ch != "%":
                out.append(ch)
                i += 1
                continue
            nxt = spec[i + 1 : i + 2]
            if nxt == "%":
                out.append("%")
                i += 2
            elif nxt == "_":
                out.append(" ")
                i += 2
            elif nxt == "-":
                out.append("%20")
                i += 2
            elif nxt == "{":
                end = spec.find("}", i)
                if end < 0:
                    raise _PermError(f"unterminated macro in {spec!r}")
                out.append(self._macro(spec[i + 2 : end], domain))
                i = end + 1
            else:
                raise _PermError(f"invalid macro in {spec!r}")
        expanded = "".join(out).rstrip(".").lower()
        # §7.3: keep the rightmost labels so the name fits 253 characters
        while len(expanded) > 253 and "." in expanded:
            expanded = expanded.split(".", 1)[1]
        return expanded

    def _macro(self, body: str, domain: str) -> str:
        match = re.fullmatch(r"([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)", body)
        if not match:
            raise _PermError(f"invalid macro %{{{body}}}")
        letter, digits, reverse, delimiters = match.groups()
        sender = self.sender or f"postmaster@{domain}"
        local, dummy, sender_domain = sender.rpartition("@")
        values = {
            "s": sender,
            "l": local or "postmaster",
            "o": sender_domain,
            "d": domain,
            "i": _dotted_ip(self.ip),
            "p": "unknown",  # RFC 7208 §7.3 allows this; see the module docstring
            "v": "in-addr" if self.ip.version == 4 else "ip6",
            "h": self.helo or domain,
        }
        key = letter.lower()
        if key not in values:
            raise _PermError(f"macro letter {letter!r} is not allowed here")
        parts = re.split("[" + re.escape(delimiters or ".") + "]", values[key])
        if reverse:
            parts.reverse()
        if digits:
            count = int(digits)
            if count == 0:
                raise _PermError("macro with zero labels")
            parts = parts[-count:]
        return ".".join(parts)


def _dotted_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def _valid_fqdn(domain: str) -> bool:
    labels = domain.split(".")
    return len(labels) >= 2 and all(0 < len(label) <= 63 for label in labels) and len(domain) <= 253


def check_host(ip: str, domain: str, resolver: SpfResolver, sender: str = "", helo: str = "") -> SpfResult:
    """What a receiver's SPF check returns for mail from ip claiming domain (RFC 7208 §4)."""
    evaluator = _Evaluator(resolver, ip, sender, helo)
    try:
        result = evaluator.check_host(domain)
        reason = f"matched {evaluator.matched}" if evaluator.matched else ""
        if result == "neutral" and not evaluator.matched:
            reason = "no mechanism matched"
        if result == "none":
            reason = f"{domain} publishes no SPF record"
        if result == "temperror":
            reason = "DNS lookup failed"
    except _PermError as exc:
        result, reason = "permerror", str(exc)
    except _TempError as exc:
        result, reason = "temperror", str(exc)
    return SpfResult(result=result, mechanism=evaluator.matched, reason=reason, lookups=evaluator.lookups)
