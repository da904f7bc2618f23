# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moodle's side of missing mail: its mail settings as Moodle itself reads them (through
admin/cli/cfg.php, config.php's forced values included), judged against this server's Postfix
and the sending domain, so that a misconfiguration in Moodle is named as one.

Findings share the shape of mail_failures' classifications (kind, side, title, fix) plus the
detail that shows it. Pure Python, no dependencies; the moodle_mail_info module runs cfg.php.
"""

from __future__ import annotations

import ipaddress
import json
import re

from ansible_collections.lms.mail.plugins.module_utils.mail_failures import KINDS, SENDING

# The settings read, each with its own cfg.php call; smtppass is never asked for.
SETTINGS = (
    "smtphosts",
    "smtpsecure",
    "smtpauthtype",
    "smtpuser",
    "smtpmaxbulk",
    "noreplyaddress",
    "allowedemaildomains",
    "emailfromvia",
    "divertallemailsto",
    "divertallemailsexcept",
    "noemailever",
    "emaildkimselector",
    "maxbytes",
    "handlebounces",
    "wwwroot",
)
# cfg.php's exit codes (admin/cli/cfg.php): 0 printed, 3 no such setting
CFG_FOUND, CFG_NOT_SET = 0, 3

MOODLE_KINDS = {
    "moodle_noemailever": (
        "Moodle is set to send no mail at all",
        "Remove $CFG->noemailever from config.php (moodle_noemailever: false): Moodle drops every "
        "message before it reaches Postfix.",
    ),
    "moodle_divert": (
        "Moodle sends every message to one address instead of its recipients",
        "Clear divertallemailsto (moodle_divertallemailsto: ''), a staging setting that diverts all "
        "mail, unless this is a test site.",
    ),
    "moodle_bypasses_postfix": (
        "Moodle sends to another server directly, not through this server's Postfix",
        "Set moodle_smtphosts to 127.0.0.1:25 (or '' for sendmail), so that mail is queued, signed "
        "and relayed by this server's Postfix.",
    ),
    "moodle_smtp_login_to_local": (
        "Moodle logs in to the local Postfix, which offers no login",
        "Clear moodle_smtpuser and moodle_smtppass: the local Postfix takes Moodle's mail without a "
        "login, and PHPMailer gives up when the server offers none.",
    ),
    "moodle_noreply_not_signed": (
        "Moodle's no-reply address is in a domain this server does not sign",
        "Set moodle_noreplyaddress to an address in the signed domain (mail_domain), or add its "
        "domain to dkim_domains and publish its records.",
    ),
    "moodle_noreply_invalid": (
        "Moodle's no-reply address is not a valid address",
        "Set moodle_noreplyaddress to an address such as noreply@school.example.",
    ),
}

_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
)


def cfg_value(rc: int, stdout: str, name: str):
    """A setting's value from `cfg.php --name=NAME --json`: the decoded JSON, or None when Moodle
    has no such setting (exit 3). ValueError for any other outcome."""
    if rc == CFG_NOT_SET:
        return None
    if rc != CFG_FOUND:
        raise ValueError(f"cfg.php --name={name} exited with {rc}")
    try:
        return json.loads(stdout.strip())
    except ValueError:
        raise ValueError(f"cfg.php --name={name} printed no JSON: {stdout.strip()[:200]!r}") from None


def truthy(value) -> bool:
    """How Moodle reads a flag: empty, '0', false and null are off."""
    return value not in (None, "", "0", 0, False, "false")


def smtp_hosts(value) -> list[tuple[str, int]]:
    """Moodle's smtphosts ('host[:port];host2[:port]', PHPMailer's Host) as (host, port) pairs;
    [] means PHP's mail(), i.e. the local sendmail. The port defaults to 25."""
    hosts = []
    for item in str(value or "").split(";"):
        item = item.strip()
        if not item:
            continue
        match = re.fullmatch(r"(?:(?:ssl|tls)://)?\[?(?P<host>[^\]]+?)\]?(?::(?P<port>\d+))?", item)
        if match and (":" not in match.group("host") or item.startswith("[")):
            hosts.append((match.group("host").lower(), int(match.group("port") or 25)))
        else:
            # an IPv6 address without brackets and without a port
            hosts.append((item.lower(), 25))
    return hosts


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listens_on_loopback(inet_interfaces: str) -> bool:
    """Whether Postfix's inet_interfaces includes a loopback address."""
    words = {w.lower() for w in re.split(r"[\s,]+", inet_interfaces or "") if w}
    return bool(words & {"all", "loopback-only", "localhost", "127.0.0.1", "::1", "[::1]"})


def noreply_address(settings: dict) -> str:
    """The no-reply address Moodle uses: noreplyaddress, or noreply@ and the host of wwwroot
    when it is empty (core_user::get_noreply_user)."""
    noreply = str(settings.get("noreplyaddress") or "").strip()
    if noreply:
        return noreply
    host = re.match(
        r"[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(?P<host>[^/:?#]+)", str(settings.get("wwwroot") or ""), re.I
    )
    return f"noreply@{host.group('host').lower()}" if host else ""


def _finding(kind: str, detail: str, side: str = SENDING) -> dict:
    if kind in MOODLE_KINDS:
        title, fix = MOODLE_KINDS[kind]
    else:
        title, fix = KINDS[kind].title, KINDS[kind].fix
    return {"kind": kind, "side": side, "title": title, "fix": fix, "detail": detail}


def moodle_problems(
    settings: dict,
    *,
    signing_domains: list[str] | None = None,
    relay_login: str = "",
    relay_rewrite_sender: bool = False,
    inet_interfaces: str | None = None,
    reachable: dict | None = None,
) -> list[dict]:
    """What in Moodle's settings keeps mail from arriving.

    settings: name -> value as cfg.php printed it (None: not set). signing_domains: the
    domains this server signs (DKIM); empty skips that check. relay_login: the relay's login
    when Postfix relays through a public service (it sends only as its login) and
    relay_rewrite_sender whether Postfix rewrites the sender to it. inet_interfaces: Postfix's,
    None when Postfix is not installed. reachable: "host:port" -> whether a connection
    succeeded, for the loopback hosts Moodle sends to.
    """
    problems = []
    if truthy(settings.get("noemailever")):
        problems.append(_finding("moodle_noemailever", "noemailever is set (config.php)"))
    divert = str(settings.get("divertallemailsto") or "").strip()
    if divert:
        problems.append(_finding("moodle_divert", f"divertallemailsto = {divert}"))

    hosts = smtp_hosts(settings.get("smtphosts"))
    local = [(h, p) for h, p in hosts if is_loopback(h)]
    remote = [(h, p) for h, p in hosts if not is_loopback(h)]
    if remote:
        named = ", ".join(f"{h}:{p}" for h, p in remote)
        problems.append(
            _finding("moodle_bypasses_postfix", f"smtphosts = {settings.get('smtphosts')} ({named})")
        )
    for host, port in local:
        where = f"{host}:{port}"
        if inet_interfaces is None:
            problems.append(
                _finding("local_mta_not_running", f"Moodle sends to {where}, but Postfix is not installed")
            )
        elif not listens_on_loopback(inet_interfaces):
            problems.append(
                _finding(
                    "local_mta_not_running",
                    f"Moodle sends to {where}, but Postfix listens on inet_interfaces = {inet_interfaces}",
                )
            )
        elif reachable is not None and reachable.get(where) is False:
            problems.append(
                _finding("local_mta_not_running", f"Moodle sends to {where}, where nothing answers")
            )
    if local and str(settings.get("smtpuser") or "").strip():
        problems.append(
            _finding(
                "moodle_smtp_login_to_local",
                f"smtpuser = {settings.get('smtpuser')} with smtphosts on loopback",
            )
        )

    noreply = noreply_address(settings)
    if noreply:
        found = _ADDRESS.fullmatch(noreply)
        if not found:
            problems.append(_finding("moodle_noreply_invalid", f"noreplyaddress = {noreply}"))
        else:
            domain = found.group("domain").lower().rstrip(".")
            signed = [d.lower().rstrip(".") for d in signing_domains or [] if d]
            if signed and domain not in signed:
                problems.append(
                    _finding(
                        "moodle_noreply_not_signed",
                        f"noreplyaddress = {noreply}; this server signs {', '.join(signed)}",
                    )
                )
            if relay_login and noreply.lower() != relay_login.lower() and not relay_rewrite_sender:
                problems.append(
                    _finding(
                        "sender_not_allowed",
                        f"noreplyaddress = {noreply}, the relay's login is {relay_login} and Postfix does "
                        f"not rewrite the sender",
                    )
                )
    return problems
