# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The safety rules of the postfix and dkim roles, applied to the settings as they will be
written: after postfix_main_cf_extra and dkim_conf_extra are merged in, so that an extra
parameter can never undo a rule the role's own variables are held to.

Each filter returns the list of problems (empty when the settings are safe); each problem names
the variable to change and how. The values of secrets are never part of a message.
"""

from __future__ import annotations

import re

from ansible_collections.lms.mail.plugins.module_utils.paths import entry_stat, paths_unlike
from ansible_collections.lms.mail.plugins.test.mail_input import (
    MIN_IPV4_PREFIX,
    MIN_IPV6_PREFIX,
    fqdn,
    network,
    printable,
    wide_network,
)

# main.cf parameter names (some have capitals: smtp_tls_CAfile).
_POSTFIX_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# opendkim.conf(5) setting names.
_OPENDKIM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# A value that stays on its line: no control character at all (tab, newline, NUL, DEL ...).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# What may stand before reject_unauth_destination in a restriction list: only what narrows who
# may relay (this host's own networks, authenticated clients) or rejects. Anything else - a
# bare "permit", an access map that may answer OK - would decide before the relay check does.
_BEFORE_UNAUTH = {
    "permit_mynetworks",
    "permit_sasl_authenticated",
    "permit_tls_clientcerts",
    "permit_auth_destination",
    "warn_if_reject",
}
_UNAUTH = {"reject_unauth_destination", "defer_unauth_destination", "reject", "defer"}
# TLS levels that authenticate the relay: only then may a password be sent to it.
VERIFIED_TLS_LEVELS = ("secure", "verify")


def _source(name: str, extra: dict, role_var: str) -> str:
    """The variable a main.cf parameter's value came from, for messages."""
    return f"postfix_main_cf_extra.{name}" if name in extra else role_var


def _tokens(value: object) -> list[str]:
    return [token for token in re.split(r"[\s,]+", str(value)) if token]


def restriction_problem(value: object) -> str:
    """Why a smtpd restriction list lets mail through to any destination, or ""."""
    for token in _tokens(value):
        if token in _UNAUTH:
            return ""
        if token not in _BEFORE_UNAUTH and not token.startswith(("reject_", "defer_")):
            return (
                f"it reaches {token} before reject_unauth_destination, so mail to any destination "
                "may pass: put reject_unauth_destination before it"
            )
    return "it has no reject_unauth_destination (or defer_unauth_destination), so this server would relay"


# The domains Postfix takes mail for as their final (or relay) destination: a catch-all there
# (static:ALL, a regexp or pcre table that matches anything, a socket map answering for any
# name) makes the server accept mail for every domain from anyone, an open relay.
_DOMAIN_LISTS = ("mydestination", "virtual_alias_domains", "virtual_mailbox_domains")
# Lookup tables that answer only for the keys written in them (an indexed file or an inline list).
_KEYED_TABLES = re.compile(r"(?:hash|lmdb|btree|cdb|dbm|texthash):/[A-Za-z0-9._+/-]+")
# Parameter references Postfix expands, as in its own default: $myhostname, localhost.$mydomain.
_DOMAIN_WITH_REFERENCES = re.compile(
    r"(?:\$[a-z_]+|\$\{[a-z_]+\}|[A-Za-z0-9-]+)(?:\.(?:\$[a-z_]+|\$\{[a-z_]+\}|[A-Za-z0-9-]+))*"
)


def domain_list_problems(main_cf: dict, extra: dict) -> list[str]:
    """Problems of mydestination, virtual_alias_domains and virtual_mailbox_domains: domain names
    (localhost, $myhostname, localhost.$mydomain) or keyed tables (hash:/etc/postfix/domains)
    only, never a table that may match every domain."""
    problems = []
    for name in _DOMAIN_LISTS:
        for token in _tokens(main_cf.get(name, "")):
            if not (_DOMAIN_WITH_REFERENCES.fullmatch(token) or _KEYED_TABLES.fullmatch(token)):
                problems.append(
                    f"{_source(name, extra, 'postfix_main_cf_extra')}: {name} may list domain names "
                    f"(or $myhostname, or a keyed table such as hash:/etc/postfix/domains) only, not "
                    f"{token!r}: a table that may match every domain makes this server take mail for any "
                    "destination from anyone, an open relay"
                )
    return problems


def mynetworks_problems(value: object, source: str, allow_wide: bool, allow_var: str) -> list[str]:
    """The networks of a mynetworks value (IPv6 in brackets, as main.cf writes them)."""
    problems = []
    for token in _tokens(value):
        plain = re.sub(r"^\[([^\]]*)\]", r"\1", token)
        if network(plain) is None:
            problems.append(
                f"{source}: {token!r} is not a network in canonical CIDR form (such as 192.0.2.0/24 "
                "or 2001:db8::/48, host bits zero, no scope id); mynetworks may hold networks only"
            )
        elif wide_network(plain) and not allow_wide:
            problems.append(
                f"{source}: {token} is wider than a /{MIN_IPV4_PREFIX} (IPv4) or a /{MIN_IPV6_PREFIX} "
                "(IPv6): every client in it could send mail as this server. List the customer's own "
                f"networks, or set {allow_var}: true if such a network is really trusted"
            )
    return problems


def postfix_main_cf_problems(
    main_cf: dict,
    extra: dict | None = None,
    relay_auth: bool = False,
    allow_wide_mynetworks: bool = False,
) -> list[str]:
    """Problems of the merged main.cf parameters (the role's, then postfix_main_cf_extra)."""
    extra = extra or {}
    problems = []
    for name, value in main_cf.items():
        if not isinstance(name, str) or not _POSTFIX_NAME.fullmatch(name):
            problems.append(f"postfix_main_cf_extra: {name!r} is not a main.cf parameter name")
        elif _CONTROL.search(str(value)):
            problems.append(
                f"{_source(name, extra, 'a postfix_* variable')}: the value of {name} holds a line break or "
                "another control character; a main.cf parameter is one line"
            )
    if problems:
        return problems

    problems += mynetworks_problems(
        main_cf.get("mynetworks", ""),
        _source("mynetworks", extra, "postfix_mynetworks"),
        allow_wide_mynetworks,
        "postfix_mynetworks_allow_wide",
    )

    relay = main_cf.get("smtpd_relay_restrictions", "")
    recipient = main_cf.get("smtpd_recipient_restrictions", "")
    lists = [("smtpd_relay_restrictions", relay)] if _tokens(relay) else []
    if _tokens(recipient) or not lists:
        lists.append(("smtpd_recipient_restrictions", recipient))
    for name, value in lists:
        problem = restriction_problem(value)
        if problem:
            problems.append(f"{_source(name, extra, 'postfix_main_cf_extra')}: {name} = {value}: {problem}")

    for token in _tokens(main_cf.get("relay_domains", "")):
        if not fqdn(token):
            problems.append(
                f"{_source('relay_domains', extra, 'postfix_main_cf_extra')}: relay_domains may list domain "
                f"names only, not {token!r}: every destination it matches is relayed for anyone"
            )

    problems += domain_list_problems(main_cf, extra)

    if relay_auth:
        level = str(main_cf.get("smtp_tls_security_level", ""))
        if level not in VERIFIED_TLS_LEVELS:
            problems.append(
                f"{_source('smtp_tls_security_level', extra, 'postfix_relay_tls_level')}: with a relay "
                f"password the TLS level must be secure or verify, not {level!r}: only a relay whose "
                "certificate is verified for its name may receive the password (encrypt would hand it "
                "to a man in the middle)"
            )
        if _tokens(main_cf.get("smtp_tls_policy_maps", "")):
            problems.append(
                "postfix_main_cf_extra.smtp_tls_policy_maps: with a relay password the TLS level is the "
                "role's (postfix_relay_tls_level); a policy map could lower it for the relay"
            )
    return problems


# The signing smtpd of postfix_milter_mode after_queue listens here and nowhere else.
_LOOPBACK_LISTENERS = ("127.0.0.1", "[::1]")
# Loopback networks, the only clients the signing smtpd takes mail from.
_LOOPBACK_NETWORKS = ("127.0.0.0/8", "[::1]/128")


def _port_problem(port: object, milters: list) -> str:
    if isinstance(port, bool) or not re.fullmatch(r"[0-9]{1,5}", str(port)) or not 0 < int(str(port)) < 65536:
        return f"postfix_milter_reinject_port must be a port number from 1 to 65535, not {port!r}"
    if int(str(port)) == 25 or any(str(m).endswith(f":{port}") for m in milters):
        return (
            f"postfix_milter_reinject_port {port} is taken (by smtpd on port 25 or by a milter in "
            "postfix_milters): choose a free loopback port such as 10026"
        )
    return ""


def postfix_signing_problems(
    main_cf: dict,
    extra: dict | None = None,
    mode: str = "after_queue",
    milters: list | None = None,
    port: object = 10026,
    listener: str = "",
    smtpd_options: dict | None = None,
    content_filter: str = "",
) -> list[str]:
    """Problems of the path mail takes through the milters (postfix_milter_mode), in main.cf as it
    will be written (after postfix_main_cf_extra) and in the signing smtpd of master.cf:
    mail is always taken when Moodle hands it over, it leaves only through the signer (after_queue),
    and the signing smtpd is reachable from loopback only and relays for nobody else."""
    extra, milters, smtpd_options = extra or {}, milters or [], smtpd_options or {}
    if not milters:
        return []
    if mode not in ("after_queue", "inline"):
        return [f"postfix_milter_mode must be after_queue or inline, not {mode!r}"]
    problems = []
    overrides = "receive_override_options"
    if mode == "inline":
        action = str(main_cf.get("milter_default_action", "tempfail"))
        if action != "accept":
            problems.append(
                f"{_source('milter_default_action', extra, 'postfix_milter_mode')}: with postfix_milter_mode "
                f"inline, milter_default_action must stay accept, not {action!r}: a silent signer would turn "
                "Moodle's mail away, and Moodle does not retry. To hold mail while the signer is away, use "
                "postfix_milter_mode after_queue"
            )
        if "no_milters" in _tokens(main_cf.get(overrides, "")):
            source = _source(overrides, extra, "postfix_main_cf_extra")
            problems.append(f"{source}: no_milters would send every message unsigned")
        return problems

    for name in ("smtpd_milters", "non_smtpd_milters"):
        if _tokens(main_cf.get(name, "")):
            problems.append(
                f"{_source(name, extra, 'postfix_main_cf_extra')}: with postfix_milter_mode after_queue the "
                f"milters run in the signing smtpd only; {name} in main.cf would run them while Moodle hands "
                "mail over. List them in postfix_milters"
            )
    if str(main_cf.get("content_filter", "")) != content_filter:
        problems.append(
            f"{_source('content_filter', extra, 'postfix_main_cf_extra')}: content_filter is the role's "
            f"({content_filter}) with postfix_milter_mode after_queue: another value would send mail past "
            "the signer"
        )
    port_problem = _port_problem(port, milters)
    if port_problem:
        problems.append(port_problem)
    host = listener.rsplit(":", 1)[0]
    if host not in _LOOPBACK_LISTENERS or listener != f"{host}:{port}":
        problems.append(f"the signing smtpd must listen on loopback only ({listener!r})")
    expected = {
        "content_filter": "",
        "milter_default_action": "tempfail",
        "smtpd_milters": ",".join(milters),
        "non_smtpd_milters": "",
    }
    for name, value in expected.items():
        if str(smtpd_options.get(name)) != value:
            problems.append(f"the signing smtpd needs {name}={value}, not {smtpd_options.get(name)!r}")
    networks = _tokens(smtpd_options.get("mynetworks", ""))
    if not networks or any(n not in _LOOPBACK_NETWORKS for n in networks):
        problems.append(
            f"the signing smtpd may trust loopback only, not mynetworks={smtpd_options.get('mynetworks')!r}"
        )
    for name in ("smtpd_client_restrictions", "smtpd_relay_restrictions"):
        problem = restriction_problem(smtpd_options.get(name, ""))
        if problem:
            problems.append(f"the signing smtpd's {name} = {smtpd_options.get(name)}: {problem}")
    for name, value in smtpd_options.items():
        if not _POSTFIX_NAME.fullmatch(str(name)) or re.search(r"[\s\x00-\x1f\x7f]", str(value)):
            problems.append(
                f"the signing smtpd's option {name!r} must be one word (master.cf -o {name}=VALUE)"
            )
    return problems


def network_list_problems(values: object, var: str, allow_wide: bool, allow_var: str) -> list[str]:
    """Problems of a list of networks or addresses (dkim_trusted_hosts)."""
    if not isinstance(values, list):
        return [f"{var} must be a list of networks"]
    problems = []
    for value in values:
        if network(value) is None:
            problems.append(
                f"{var}: {value!r} is not an address or a network in canonical CIDR form (such as "
                "192.0.2.0/24 or 2001:db8::/48, host bits zero, no scope id)"
            )
        elif wide_network(value) and not allow_wide:
            problems.append(
                f"{var}: {value} is wider than a /{MIN_IPV4_PREFIX} (IPv4) or a /{MIN_IPV6_PREFIX} (IPv6): "
                "mail from anyone in it would be signed as the customer's. List the customer's own "
                f"networks, or set {allow_var}: true if such a network is really trusted"
            )
    return problems


def opendkim_conf_problems(extra: object, managed: list) -> list[str]:
    """Problems of dkim_conf_extra: names OpenDKIM reads case-insensitively, so a managed name
    in any case is the role's; one setting per line."""
    if not isinstance(extra, dict):
        return ["dkim_conf_extra must be a mapping of opendkim.conf(5) settings"]
    taken = {name.lower() for name in managed}
    problems = []
    for name, value in extra.items():
        if not isinstance(name, str) or not _OPENDKIM_NAME.fullmatch(name):
            problems.append(f"dkim_conf_extra: {name!r} is not an opendkim.conf(5) setting name")
        elif name.lower() in taken:
            problems.append(
                f"dkim_conf_extra: {name} is set by the role itself ({', '.join(managed)}, in any case): "
                "use dkim_port, dkim_ed25519, dkim_trusted_hosts and the signing table variables"
            )
        elif _CONTROL.search(str(value)) or str(value) != str(value).strip() or str(value) == "":
            problems.append(
                f"dkim_conf_extra: the value of {name} must be one non-empty line without a control "
                "character or leading or trailing space"
            )
    return problems


def sasl_credential_problems(username: object, password: object) -> list[str]:
    """Problems of the relay login and password as one sasl_passwd line holds them
    ("[host]:port user:password"): Postfix splits at the first ':' and drops surrounding space."""
    problems = []
    user, secret = str(username or ""), str(password or "")
    if user and (not printable(user) or ":" in user):
        problems.append(
            "postfix_relay_username must be one word without spaces, control characters or ':' "
            "(sasl_passwd splits the login from the password at the first ':')"
        )
    if secret and (_CONTROL.search(secret) or secret != secret.strip()):
        problems.append(
            "postfix_relay_password must not hold a line break or another control character, nor start "
            "or end with a space (Postfix would cut it or read a second entry); its value is not shown"
        )
    return problems


def planted_paths(results: list, directories: list, owners: list) -> list[str]:
    """The paths, among the results of a look that never follows a link (lms.mail.paths_info, a
    looped stat with follow: false, or ansible.builtin.find's files) over paths a role writes as
    root inside a directory a service user owns, that were not left as the role leaves them: a
    link, a directory expected where a file is (or a file where a directory is), a file with a
    second name (a hard link to a file elsewhere), or anything owned by someone else than
    `owners`. Missing paths are fine: the role creates them."""
    planted = []
    for result in results:
        path, stat = entry_stat(result)
        if not stat.get("exists"):
            continue
        if stat.get("islnk"):
            kind_ok = False
        elif path in directories:
            kind_ok = bool(stat.get("isdir"))
        else:
            kind_ok = bool(stat.get("isreg")) and int(stat.get("nlink", 1)) == 1
        if not kind_ok or stat.get("pw_name") not in owners:
            planted.append(path)
    return planted


def path_unlike(
    results: list, path: str, owner: str | None = None, group: str | None = None, mode: str | None = None,
    checksum: str | None = None, directory: bool = False,
) -> bool:  # fmt: skip
    """Whether a write task must still touch `path`, from one earlier look (the results of
    lms.mail.paths_info or of a looped stat, or find's files): missing or not seen, a link, not
    the kind expected, or another owner, group, mode or content (SHA-1) than given."""
    return bool(paths_unlike(results, [path], owner=owner, group=group, mode=mode, checksum=checksum,
                             directory=directory))  # fmt: skip


def paths_unlike_filter(
    results: list, paths: list, owner: str | None = None, group: str | None = None, mode: str | None = None,
    checksum: str | None = None, directory: bool = False,
) -> list[str]:  # fmt: skip
    """Of `paths`, in their order, those a write task must still touch (path_unlike)."""
    return paths_unlike(results, list(paths), owner=owner, group=group, mode=mode, checksum=checksum,
                        directory=directory)  # fmt: skip


# Postfix's defaults: message_size_limit, and the mailbox and virtual mailbox limits that local(8)
# and virtual(8) hold against it when they start.
POSTFIX_MESSAGE_SIZE_LIMIT = 10240000
POSTFIX_MAILBOX_SIZE_LIMIT = 51200000
_DECIMAL = re.compile(r"[0-9]+")


def message_size_problems(main_cf: dict, extra: dict | None = None) -> list[str]:
    """Problems of the size limits in the merged main.cf: message_size_limit a positive whole
    number of bytes, and no mailbox limit (mailbox_size_limit; virtual_mailbox_limit where
    virtual delivery is set up; 0 = none) below it, since local(8) and virtual(8) refuse to start
    then and mail waits in the queue."""
    extra = extra or {}

    def size(name: str, default: int) -> int | None:
        value = main_cf.get(name, default)
        if isinstance(value, bool) or not _DECIMAL.fullmatch(str(value)):
            return None
        return int(str(value))

    problems = []
    limit = size("message_size_limit", POSTFIX_MESSAGE_SIZE_LIMIT)
    if not limit:
        return [
            f"{_source('message_size_limit', extra, 'postfix_message_size_limit')}: message_size_limit must "
            f"be a positive whole number of bytes, such as {POSTFIX_MESSAGE_SIZE_LIMIT} (Postfix's default), "
            f"not {main_cf.get('message_size_limit')!r}"
        ]
    # virtual(8) only where main.cf uses it (the role itself delivers locally only)
    uses_virtual = "virtual_mailbox_limit" in main_cf or "virtual_mailbox_domains" in main_cf
    for name in ("mailbox_size_limit", "virtual_mailbox_limit")[: 2 if uses_virtual else 1]:
        mailbox = size(name, POSTFIX_MAILBOX_SIZE_LIMIT)
        if mailbox is None:
            problems.append(
                f"{_source(name, extra, 'postfix_main_cf_extra')}: {name} must be a whole number of bytes "
                f"(0: no limit), not {main_cf.get(name)!r}"
            )
        elif 0 < mailbox < limit:
            problems.append(
                f"{_source(name, extra, 'postfix_main_cf_extra')}: {name} = {mailbox} is smaller than "
                f"message_size_limit = {limit} (from "
                f"{_source('message_size_limit', extra, 'postfix_message_size_limit')}): Postfix's "
                f"delivery agents refuse to start so. Raise {name} to at least {limit}, or 0 for no limit"
            )
    return problems


class FilterModule:
    def filters(self):
        return {
            "postfix_main_cf_problems": postfix_main_cf_problems,
            "network_list_problems": network_list_problems,
            "opendkim_conf_problems": opendkim_conf_problems,
            "sasl_credential_problems": sasl_credential_problems,
            "planted_paths": planted_paths,
            "path_unlike": path_unlike,
            "paths_unlike": paths_unlike_filter,
            "postfix_signing_problems": postfix_signing_problems,
            "message_size_problems": message_size_problems,
        }
