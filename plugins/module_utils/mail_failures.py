# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a message did not arrive: an SMTP reply, a DSN code or Postfix's own status text read
back into the kinds of failure hosters know, each with the one change that fixes it.

The kinds follow the knowledge-base article the project grew from: a failure happens at the
sending server (this server's Postfix, or the relay it logs in to: credentials, TLS, the
relay's own rules and limits, a name that does not resolve, a port the provider blocks) or at
the receiving server (the message looks like spam or is not authenticated, is too large, the
recipient is unknown or their mailbox is full). A fix names the variable of lms.mail's roles to
change where one of them owns the setting.

Some replies mean one thing at the relay and another at the recipient's server ("Relay access
denied" from the relay: log in; from the recipient's MX: its MX records are wrong; a size or
rate limit: the relay's, which the postfix role can respect, or the receiver's, which it
cannot). `classify` takes the host that answered and the relay Postfix is set to use, and picks
the side and the fix from them.

Rules are tried in order and the first that matches wins; then the enhanced status code alone;
then the reply's class (4xx: Postfix retries; 5xx: returned to the sender). Pure Python, no
dependencies: it is imported by the mail_queue_info module on the mail host.
"""

from __future__ import annotations

import dataclasses
import re

from ansible_collections.lms.mail.plugins.module_utils.postfix_log import iso, split_reply

SENDING = "sending"
RECEIVING = "receiving"


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str
    side: str | None  # SENDING, RECEIVING, or None: the server that answered decides
    title: str
    fix: str  # at the receiver, or wherever it happens when side is fixed
    fix_at_relay: str | None = None  # when the configured relay answered
    fix_local: str | None = None  # when this server's own Postfix refused the message from Moodle


@dataclasses.dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern
    fix: str | None = None  # this reply's own fix, instead of the kind's
    local: bool = False  # only this server's own Postfix says it


RELAY_LOGIN = "postfix_relay_username and postfix_relay_password"
LOCAL_SIZE_FIX = (
    "Postfix on this server refused the message when it was handed over: it is larger than "
    "postfix_message_size_limit (Postfix's message_size_limit); raise that up to the relay's "
    "published limit, or lower Moodle's attachment limit (maxbytes)."
)

KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "basic_auth_disabled",
            SENDING,
            "the relay refuses password logins (Microsoft 365 basic authentication)",
            "Microsoft 365 no longer takes a password over SMTP: log in with OAuth2 (the microsoft365 "
            "preset with postfix_relay_auth: oauth2 and the tenant's client settings), or relay "
            "through another service.",
        ),
        Kind(
            "oauth2_token_refused",
            SENDING,
            "the OAuth2 token was refused or could not be renewed",
            "The identity provider refused the client's credentials or the refresh token: renew the "
            "client secret (or consent) in the tenant, set it in the relay's OAuth2 settings and run "
            "site.yml again; mail waits in the queue meanwhile.",
        ),
        Kind(
            "auth_mechanism_missing",
            SENDING,
            "Postfix found no login method the relay offers",
            "Install libsasl2-modules (the postfix role does) and keep TLS towards the relay "
            "(postfix_relay_tls_level: secure), since services offer AUTH only after STARTTLS.",
        ),
        Kind(
            "authentication_required",
            SENDING,
            "the relay wants a login this server did not give",
            f"The relay accepts mail only after a login: set {RELAY_LOGIN} (with mail_transport "
            "relay_public or relay_corporate) and run site.yml again.",
        ),
        Kind(
            "auth_failed",
            SENDING,
            "the relay refused the login (wrong or non-application password)",
            f"Set {RELAY_LOGIN} to the full mailbox address and an application password (Gmail, "
            "Yandex and Mail.ru refuse the account's own password, always or once two-step login is "
            "on), then run site.yml again.",
        ),
        Kind(
            "relay_account_blocked",
            SENDING,
            "the service blocked sending from the relay's account",
            "The service stopped the account from sending (often after suspected misuse or too much "
            "mail): log in to its web mail, confirm the account, set a new application password in "
            "postfix_relay_password, and keep postfix_relay_daily_limit under the plan's limit.",
        ),
        Kind(
            "tls_required",
            SENDING,
            "the server demands TLS that this server did not start",
            "Keep TLS on towards the relay: postfix_relay_tls_level secure (the default) or encrypt, "
            "and postfix_relay_tls_wrapper true for port 465.",
        ),
        Kind(
            "tls_failed",
            SENDING,
            "TLS with the server failed (certificate or handshake)",
            "Name the relay as its certificate does (postfix_relay_host), give a private CA in "
            "postfix_relay_tls_ca_cert, and match the port: 465 is TLS from the first byte "
            "(postfix_relay_tls_wrapper: true), 587 starts plain and upgrades with STARTTLS.",
        ),
        Kind(
            "sender_not_allowed",
            SENDING,
            "the relay refuses a From other than its login",
            "The service sends only as its login: set moodle_noreplyaddress to postfix_relay_username, "
            "or let Postfix rewrite the sender (postfix_relay_rewrite_sender: true).",
        ),
        Kind(
            "sender_address_invalid",
            SENDING,
            "the sender address is one receivers cannot verify",
            "Send from an address in a domain with an MX or A record: set postfix_domain (the "
            "envelope's domain) and moodle_noreplyaddress accordingly.",
        ),
        Kind(
            "relay_denied",
            None,
            "the server refused to relay",
            "The recipient's MX does not take mail for the recipient's domain (its MX records point "
            "at a server that is not its mail server): nothing on this server fixes it; tell the "
            "recipient's postmaster, or correct the address in the user's Moodle profile.",
            fix_at_relay=f"The relay does not relay for this server: set {RELAY_LOGIN} (a public "
            "service relays only after a login), or ask the corporate relay's admins to allow this "
            "server's address.",
            fix_local="This server's Postfix refused to relay for the client that handed the message "
            "over: let Moodle send over loopback (moodle_smtphosts: 127.0.0.1:25, or '' for sendmail) "
            "or add its network to mail_networks (postfix_mynetworks).",
        ),
        Kind(
            "mailbox_full",
            RECEIVING,
            "the recipient's mailbox is full",
            "Only the recipient can free their mailbox; tell them another way. A 4xx reply is retried "
            "until maximal_queue_lifetime (5 days by default), a 5xx one is returned at once.",
        ),
        Kind(
            "message_too_large",
            None,
            "the message is larger than the server accepts",
            "The recipient's server takes smaller messages: lower Moodle's attachment limit (maxbytes) "
            "or send a link to the file instead.",
            fix_at_relay="The relay's size limit is below the message: set postfix_message_size_limit "
            "to the relay's published limit, so that an oversize message is refused when Moodle "
            "hands it over instead of bouncing later, and keep Moodle's maxbytes below it.",
            fix_local=LOCAL_SIZE_FIX,
        ),
        Kind(
            "ptr_helo_rejected",
            RECEIVING,
            "the receiver rejected this server's reverse DNS (PTR) or HELO name",
            "Set the PTR of the server's public IP to postfix_hostname (dns_ptr_provider, or ask the "
            "hosting provider), give that name an A record back to the IP, and keep postfix_helo_name "
            "equal to it; or send through a relay (mail_transport: relay_public).",
        ),
        Kind(
            "sender_authentication_rejected",
            RECEIVING,
            "the receiver rejected the message for SPF, DKIM or DMARC",
            "Publish SPF that allows this server, DKIM for the From domain and DMARC: set dns_provider "
            "(and its credentials) so that the dns role publishes them, or enter the records site.yml "
            "printed; then run playbooks/verify.yml.",
        ),
        Kind(
            "spam_or_reputation",
            RECEIVING,
            "the receiver judged the message or this server's IP as spam",
            "The content or the sending IP's reputation was judged: check the IP on blocklists, keep "
            "SPF, DKIM and DMARC passing (playbooks/verify.yml), and send bulk mail through a relay "
            "(mail_transport: relay_public or relay_corporate).",
        ),
        Kind(
            "greylisted",
            RECEIVING,
            "the receiver greylists first-time senders",
            "Nothing to change: the receiver asks new senders to come back later; Postfix retries and "
            "the message arrives within minutes to an hour.",
        ),
        Kind(
            "rate_limited",
            None,
            "too much mail too fast: the server throttles",
            "The receiver throttles this server: Postfix retries; if it lasts, lower Moodle's bulk "
            "sending (digests) or send through a relay (mail_transport: relay_public).",
            fix_at_relay="The relay's sending limit was reached: set postfix_relay_daily_limit and "
            "postfix_relay_per_minute_limit to the plan's published limits so that Postfix paces "
            "itself below them.",
        ),
        Kind(
            "unknown_recipient",
            RECEIVING,
            "the recipient does not exist or was disabled",
            "The address does not exist (or the account was closed): correct the email address in "
            "the user's Moodle profile, or suspend the user.",
        ),
        Kind(
            "recipient_domain_not_found",
            RECEIVING,
            "the recipient's domain does not exist",
            "The domain after @ has no MX or A record (often a typo): correct the email address in "
            "the user's Moodle profile.",
        ),
        Kind(
            "relay_host_not_found",
            SENDING,
            "the relay's name does not resolve",
            "postfix_relay_host names a host the DNS does not know: correct it (or the preset, "
            "postfix_relay_preset), and check the server's resolver.",
        ),
        Kind(
            "dns_temporary_failure",
            SENDING,
            "this server's DNS resolver did not answer",
            "The server's resolver failed (SERVFAIL or timeout): check /etc/resolv.conf and that "
            "the resolver answers; Postfix retries meanwhile.",
        ),
        Kind(
            "connection_failed",
            SENDING,
            "the server could not be reached",
            "The relay did not answer on its port: check postfix_relay_host and postfix_relay_port "
            "(587 STARTTLS, 465 TLS) and that the firewall lets this server out to it.",
        ),
        Kind(
            "port25_blocked",
            SENDING,
            "outgoing port 25 is blocked or the recipient's MX does not answer",
            "Many providers block outgoing port 25: send through a relay on 587 or 465 "
            "(mail_transport: relay_public or relay_corporate with postfix_relay_host) instead of "
            "direct delivery.",
        ),
        Kind(
            "local_mta_not_running",
            SENDING,
            "the local Postfix is not running or not where Moodle sends",
            "Start Postfix (systemctl enable --now postfix), and make Moodle's moodle_smtphosts name "
            "an address Postfix listens on (postfix_inet_interfaces), or leave it empty for sendmail.",
        ),
        Kind(
            "local_mta_misconfigured",
            SENDING,
            "the local Postfix is not set up for this mail",
            "Postfix's own configuration stops the message: run site.yml again (postfix role) and "
            "read Postfix's warning in the log for the parameter it names.",
        ),
        Kind(
            "unclassified_temporary",
            None,
            "a temporary failure lms.mail does not know",
            "Postfix retries until maximal_queue_lifetime; read the server's text above for the cause.",
        ),
        Kind(
            "unclassified_permanent",
            None,
            "a permanent failure lms.mail does not know",
            "The message was returned to its sender; read the server's text above for the cause.",
        ),
    )
}


def _rules(kind: str, *patterns: str, fix: str | None = None, local: bool = False) -> list[Rule]:
    return [Rule(kind, re.compile(p, re.IGNORECASE | re.DOTALL), fix, local) for p in patterns]


# -- OAuth 2.0 through emailproxy (postfix_relay_auth: oauth2, issue 12) ------------------------
# Postfix logs in to emailproxy on loopback; emailproxy gets the tokens and logs in to the
# provider with XOAUTH2. When it cannot, Postfix's log has only emailproxy's answer (535 5.7.8
# "Authentication credentials invalid. Email OAuth 2.0 Proxy: Login failed ...", its APP_NAME),
# Postfix defers the mail,
# and the provider's reason is in emailproxy's journal. The wordings are emailproxy 2026.7.3's
# (OAuth2Helper.get_oauth2_credentials and the SMTP client's AUTH handling); the provider's own
# errors in that journal (AADSTS..., invalid_grant) are the rules of oauth2_token_refused.
EMAILPROXY_JOURNAL = "journalctl -u lms-mail-emailproxy"
OAUTH2_SECRETS = (
    "postfix_relay_oauth2_client_secret (Microsoft 365: a new secret of the app registration; its "
    "old one expired or was deleted) or postfix_relay_oauth2_refresh_token (Google: a new refresh "
    "token for the mailbox)"
)

KINDS.update(
    {
        kind.name: kind
        for kind in (
            Kind(
                "oauth2_proxy_login_failed",
                SENDING,
                "emailproxy could not get an OAuth2 token for the relay",
                f"emailproxy answered Postfix that it has no token; the provider's reason is in its journal "
                f"({EMAILPROXY_JOURNAL}): AADSTS7000215 or invalid_client: set {OAUTH2_SECRETS} and run "
                "site.yml again; invalid_grant: the refresh token was revoked or expired, get a new one; "
                "a URL error or a timeout: the server cannot reach the token end point "
                "(postfix_relay_oauth2_token_url, a firewall, DNS). Mail waits in the queue meanwhile.",
            ),
            Kind(
                "oauth2_proxy_out_of_step",
                SENDING,
                "emailproxy cannot read the tokens it kept (another local password)",
                "The tokens emailproxy keeps are encrypted with the local password Postfix gives it, and "
                "that password changed without the token store being emptied: run site.yml again (the "
                "postfix role empties the store when the OAuth2 secrets change) or remove "
                "/var/lib/lms-mail-emailproxy/tokens and restart lms-mail-emailproxy.",
            ),
            Kind(
                "oauth2_token_endpoint_unreachable",
                SENDING,
                "the OAuth2 token end point could not be reached",
                "emailproxy could not reach the provider's token end point: check that the server reaches "
                "it over https (a firewall or proxy, DNS) and that postfix_relay_oauth2_token_url (or the "
                "preset's) is right; mail waits in the queue meanwhile.",
            ),
        )
    }
)

# -- The loopback hops of this server's own mail path (issue 13, issue 12) ---------------------
# postfix_milter_mode after_queue hands each message to a second smtpd on loopback whose signer
# runs with milter_default_action = tempfail: while OpenDKIM is away that smtpd answers 451 4.7.1
# and the message waits, never leaving unsigned. With postfix_relay_auth oauth2 the relayhost is
# emailproxy on loopback: a refused connection there is emailproxy down, not Postfix.
SIGNER_FIX = (
    "The DKIM signer (OpenDKIM) did not answer the signing step, so Postfix keeps the message "
    "queued rather than send it unsigned: read systemctl status opendkim and journalctl -u opendkim, "
    "run site.yml again (dkim role); each signer start retries the held mail."
)
KINDS.update(
    {
        kind.name: kind
        for kind in (
            Kind(
                "signer_unavailable",
                SENDING,
                "the DKIM signer did not answer; the message waits, unsigned mail is never sent",
                SIGNER_FIX,
            ),
            Kind(
                "oauth2_proxy_not_running",
                SENDING,
                "emailproxy, Postfix's loopback way to the OAuth2 relay, does not answer",
                "Postfix reaches the relay through emailproxy on loopback (postfix_relay_auth: oauth2), and "
                f"nothing answers there: systemctl status lms-mail-emailproxy and {EMAILPROXY_JOURNAL}, "
                "then run site.yml again (postfix role). Mail waits in the queue meanwhile.",
            ),
        )
    }
)
_SIGNER_RULES = _rules(
    "signer_unavailable",
    r"127\.0\.0\.1\[127\.0\.0\.1\](:\d+)? said: 451 4\.7\.1 Service unavailable - try again later",
)
_LOOPBACK_REFUSED = re.compile(r"connect to (127\.0\.0\.1|localhost|\[?::1\]?)\b.*(refused|timed out)", re.I)
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# Narrow first: the provider's refusal inside emailproxy's journal line is oauth2_token_refused's
# (those rules come before these in RULES).
_EMAILPROXY_RULES = (
    _rules(
        "oauth2_proxy_out_of_step",
        r"(emailproxy|email oauth 2\.0 proxy): login failed - the password for account \S+ is incorrect",
        r"invalid password to decrypt (`client_secret_encrypted`|credentials) for account",
    )
    + _rules(
        "oauth2_token_refused",
        r"retrying login due to exception while refreshing access token for account \S+ \(attempt 2\)",
        fix="The provider refused the refresh token twice (Google: revoked, expired after six months "
        "unused, or the password of the account changed): get a new refresh token for the mailbox, set "
        "postfix_relay_oauth2_refresh_token and run site.yml again; mail waits in the queue meanwhile.",
    )
    + _rules(
        "oauth2_token_endpoint_unreachable",
        r"caught exception while requesting oauth 2\.0 credentials for account \S+: "
        # url[o]pen: the same text; the bare word reads as a call to ansible-test (replace-urlopen)
        r"(<url[o]pen error|URLError|TimeoutError|timed out|ConnectionRefusedError)",
    )
    + _rules(
        "oauth2_proxy_login_failed",
        r"(emailproxy|email oauth 2\.0 proxy): login failed for account \S+",
        r"(emailproxy|email oauth 2\.0 proxy): (no|incomplete) config file entry found for account",
        r"caught exception while requesting oauth 2\.0 credentials for account",
    )
)


# Order matters: the first match wins, so the narrow wordings come before the broad ones
# (Gmail's SPF and PTR texts say "rate limited" and "spam"; Yandex's full mailbox says "size
# limit exceeded"; Gmail uses 5.7.30 for DKIM where Microsoft uses it for basic authentication).
RULES: tuple[Rule, ...] = tuple(
    _rules(
        "basic_auth_disabled",
        r"basic authentication is not supported",
        fix=KINDS["basic_auth_disabled"].fix,
    )
    + _rules(
        "basic_auth_disabled",
        r"\b5\.7\.139\b",
        r"smtpclientauthentication is disabled",
        r"security defaults policy",
        fix="Microsoft 365 refused the login (5.7.139: SMTP AUTH off for the tenant or the mailbox, "
        "or security defaults on): log in with OAuth2 (postfix_relay_auth: oauth2 with the microsoft365 "
        "preset), or have the tenant's admin turn on Authenticated SMTP for this mailbox.",
    )
    + _rules(
        "oauth2_token_refused",
        r"\bAADSTS\d+",
        r"\binvalid_grant\b",
        r"\binvalid_client\b",
        r"\bunauthorized_client\b",
        r"token has been expired or revoked",
        r"\b(access|refresh) token (has )?expired\b",
    )
    + _EMAILPROXY_RULES
    + _SIGNER_RULES
    + _rules(
        "auth_mechanism_missing",
        r"no (sasl )?mechanism available",
        r"no worthy mechs found",
        r"cannot authenticate to server",
    )
    + _rules(
        "authentication_required",
        r"\b5\.7\.57\b",
        r"client not authenticated",
        r"authentication required",
        r"authori[sz]ation required",
        r"not allowed to send e?mail without authori[sz]ation",
    )
    + _rules(
        "auth_failed",
        r"username and password not accepted",
        r"application-specific password required",
        r"please log in (with|through) your web browser",
        r"too many login attempts",
        r"authentication (failed|unsuccessful|credentials invalid)",
        r"invalid (login|user(name)?|credentials)( or password)?",
        r"incorrect authentication data",
        r"\b535[ -]",
        r"\b5\.7\.8\b",
    )
    + _rules(
        "relay_account_blocked",
        r"(message )?sending (for|from) this account is disabled",
        r"account (has been |is )?(blocked|suspended|locked) for sending",
    )
    + _rules(
        "tls_required",
        r"must issue a starttls command first",
        r"tls required",
        r"tls is required, but (was not offered|our tls engine is unavailable)",
        r"encryption required",
        r"senders to use tls",
    )
    + _rules(
        "tls_failed",
        r"certificate (verification failed|not verified|has expired|-expired|-host-mismatch)",
        r"server certificate not (verified|trusted)",
        r"untrusted issuer",
        r"cannot start tls",
        r"tls handshake",
        r"ssl_connect error",
        r"while performing the (initial )?tls handshake",
        r"tlsa-invalid|dnssec-invalid",
    )
    + _rules(
        "sender_not_allowed",
        r"sender address rejected: not (owned|logged in)",
        r"not owned by (auth )?user",
        r"no identity changes permitted",
        r"send ?as ?denied|permissions? to send as this sender",
        r"mail sending denied",
        r"sender (address )?(is )?not (allowed|authori[sz]ed|permitted)",
    )
    + _rules(
        "sender_address_invalid",
        r"sender address rejected: (domain not found|need fully-qualified address)",
        r"not a valid rfc 5321 address",
        r"sender domain .*(does not exist|not found)",
    )
    + _rules(
        "relay_denied",
        r"relay(ing)? (access )?(denied|not permitted|prohibited|not allowed)",
        r"unable to relay",
        r"not permitted to relay",
        r"invalid credentials for relay",
        r"tenantattribution",
    )
    + _rules(
        "mailbox_full",
        r"over ?quota",
        r"quota (exceeded|exceed)",
        r"mailbox (is )?full",
        r"mailbox size (limit )?exceeded",
        r"account is full",
        r"out of storage",
        r"insufficient (system )?storage",
        r"quotaexceeded",
        r"\b5\.2\.2\b",
    )
    + _rules(
        "message_too_large",
        r"message file too big",
        r"file too large",
        r"queue file size limit exceeded",
        fix=LOCAL_SIZE_FIX,
        local=True,
    )
    + _rules(
        "message_too_large",
        r"message size \d+ exceeds size limit",
        r"message size exceeds",
        r"exceeds? (the )?(fixed |maximum )*(message )?size",
        r"message (is )?too (big|large)",
        r"message size limit",
        r"sendsizelimit|recipsizelimit",
        r"\b5\.3\.4\b",
        r"\b5\.2\.3\b",
    )
    + _rules(
        "ptr_helo_rejected",
        r"\bptr record",
        r"reverse (dns|hostname)",
        r"cannot find your (reverse )?hostname",
        r"helo command rejected",
        r"bad helo",
        r"helo/ehlo argument",
        r"\b[45]\.7\.25\b",
        r"\b4\.7\.23\b",
    )
    + _rules(
        "sender_authentication_rejected",
        # the words, not a host name that holds them (name=spf-fail.example.org, _dmarc.example.org)
        r"(?<![\w.-])dmarc(?![\w.]|-[\w-]*\.)",
        r"(?<![\w.-])spf(?![\w.]|-[\w-]*\.)",
        r"(?<![\w.-])dkim(?![\w.]|-[\w-]*\.)",
        r"sender policy framework",
        r"unauthenticated",
        r"authentication checks",
        r"not authori[sz]ed to send",
        r"\b[45]\.7\.2[3-7]\b",
        r"\b5\.7\.509\b",
    )
    + _rules(
        "spam_or_reputation",
        r"unusual rate of unsolicited",
        r"likely unsolicited",
        r"blocked using",
        r"block ?list|black ?list|listed (at|on|in)",
        r"reputation",
        r"spam statistics",
        r"banned sending ip|banned sender",
    )
    + _rules(
        "greylisted",
        r"gr[ae]y ?list",
    )
    + _rules(
        "rate_limited",
        r"rate limit|ratelimit|rate-limit",
        r"too (much|many) (mail|messages|connections|recipients|emails)",
        r"receiving mail (too quickly|at a rate)",
        r"unusual rate of mail",
        r"sending (quota|limit) exceeded|(daily|hourly) .*limit exceeded|limit exceeded for",
        r"exceeded (its|the) quota for sending",
        r"throttl",
        r"\b4\.7\.28\b",
    )
    + _rules(
        "spam_or_reputation",
        r"\bspam\b",
        r"content presents a potential security issue",
    )
    + _rules(
        "unknown_recipient",
        r"user unknown|unknown user",
        r"no such (user|mailbox|recipient|account)",
        r"(does|did) not exist",
        r"(user|recipient|mailbox|account) not found",
        r"recipientnotfound",
        r"invalid (mailbox|recipient)",
        r"mailbox (is )?unavailable",
        r"account (that you tried to reach )?is (disabled|inactive)",
        r"policy rejection on the target address",
        r"unrouteable address",
        r"bad destination mailbox",
        r"\b5\.1\.1\b",
        r"\b5\.1\.10\b",
        r"\b5\.2\.1\b",
    )
    + _rules(
        "local_mta_not_running",
        r"unable to look up public/pickup",
        r"mail system is down",
        r"connect to (127\.0\.0\.1|localhost|\[?::1\]?)\b.*(refused|timed out)",
        r"could not connect to smtp host",
        r"smtp connect\(\) failed",
    )
    + _rules(
        "local_mta_misconfigured",
        r"loops back to myself",
        r"relayhost configuration problem",
        r"unknown mail transport error",
        r"mail transport unavailable",
        r"queue file write error",
    )
)

# The enhanced status code alone, when the text matched no rule (RFC 3463; Microsoft's own).
DSN_KINDS = {
    "5.7.8": "auth_failed",
    "4.7.8": "auth_failed",
    "5.7.9": "auth_failed",
    "5.7.3": "auth_failed",
    "5.7.57": "authentication_required",
    "4.7.5": "tls_failed",
    "5.1.1": "unknown_recipient",
    "5.1.10": "unknown_recipient",
    "5.2.1": "unknown_recipient",
    "5.1.2": "recipient_domain_not_found",
    "4.2.2": "mailbox_full",
    "5.2.2": "mailbox_full",
    "5.2.3": "message_too_large",
    "5.3.4": "message_too_large",
    "4.3.4": "message_too_large",
    "5.7.23": "sender_authentication_rejected",
    "5.7.26": "sender_authentication_rejected",
    "5.7.27": "sender_authentication_rejected",
    "5.7.25": "ptr_helo_rejected",
    "4.2.1": "rate_limited",
    "5.4.5": "rate_limited",
}

_DSN = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# Postfix's "Host or domain name not found. Name service error for name=N type=T: Host not found[, try again]"
_NOT_FOUND = re.compile(
    r"name service error for name=(?P<name>\S+) type=(?P<type>\w+): host not found(?P<again>, try again)?",
    re.IGNORECASE,
)
# Postfix's "connect to HOST[IP]:PORT: Connection refused" and its timeouts
_CONNECT = re.compile(
    r"connect to (?P<host>[^\s\[]+)\[(?P<ip>[^\]]*)\]:(?P<port>\d+): "
    r"(?P<why>connection refused|connection timed out|no route to host|network is unreachable)",
    re.IGNORECASE,
)
_CONVERSATION = re.compile(
    r"(conversation with|lost connection with) \S+ (timed out )?while (receiving the initial server greeting"
    r"|performing the EHLO handshake|sending (MAIL FROM|RCPT TO|message body|end of data))",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class Classification:
    kind: str
    side: str
    title: str
    fix: str
    temporary: bool

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _host(name: str | None) -> str:
    """A relay or host as Postfix writes it ("[smtp.example]:587", "smtp.example[192.0.2.1]:587")
    reduced to its name, lower case."""
    if not name:
        return ""
    name = name.strip().lower()
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    name = name.split("[", 1)[0]
    if name.count(":") == 1:
        name = name.split(":", 1)[0]
    return name.rstrip(".")


def _dsn(text: str, dsn: str | None) -> str | None:
    if dsn and _DSN.fullmatch(dsn.strip()):
        return dsn.strip()
    found = _DSN.search(text)
    return found.group(0) if found else None


def _result(
    kind_name: str, at_relay: bool, temporary: bool, fix: str | None = None, local: bool = False
) -> Classification:
    kind = KINDS[kind_name]
    side = SENDING if local else kind.side or (SENDING if at_relay else RECEIVING)
    if fix is None:
        if local and kind.fix_local:
            fix = kind.fix_local
        elif at_relay and kind.fix_at_relay:
            fix = kind.fix_at_relay
        else:
            fix = kind.fix
    return Classification(kind_name, side, kind.title, fix, temporary)


def _postfix_own(text: str, relayhost: str, at_relay: bool, temporary: bool) -> Classification | None:
    """Postfix's own wording for DNS and connection failures, read with the relay in mind."""
    found = _NOT_FOUND.search(text)
    if found:
        if found.group("again"):
            return _result("dns_temporary_failure", at_relay, True)
        # with a relayhost every message goes to the relay first: a name it cannot find is the relay's
        if relayhost and (_host(found.group("name")) == relayhost or at_relay):
            return _result("relay_host_not_found", True, temporary)
        return _result("recipient_domain_not_found", False, temporary)
    connect = _CONNECT.search(text)
    if connect:
        host = _host(connect.group("host"))
        if host in ("localhost",) or connect.group("ip") in ("127.0.0.1", "::1"):
            return _result("local_mta_not_running", True, temporary)
        if (relayhost and host == relayhost) or connect.group("port") != "25":
            return _result("connection_failed", True, temporary)
        return _result("port25_blocked", False, temporary)
    if _CONVERSATION.search(text):
        if at_relay:
            fix = (
                KINDS["connection_failed"].fix + " A relay that never greets on 465 expects TLS from "
                "the first byte: postfix_relay_tls_wrapper: true."
            )
            return _result("connection_failed", True, temporary, fix)
        return _result("port25_blocked", False, temporary)
    if "host or domain name not found" in text.lower():
        return _result("recipient_domain_not_found", False, temporary)
    return None


def classify(
    text: str,
    dsn: str | None = None,
    *,
    status: str | None = None,
    relay: str | None = None,
    relayhost: str | None = None,
    local: bool = False,
) -> Classification:
    """The kind of failure a reply or status text means, where it happened and its fix.

    text: the remote server's reply or Postfix's status text (a log line's parenthesised part,
    a queue entry's delay_reason, a bounce's Diagnostic-Code). dsn: the enhanced status code
    when known apart from the text. status: Postfix's delivery status (deferred, bounced,
    expired), which says whether the failure is temporary when no code does. relay: the host
    that answered (the log's relay= field). relayhost: the relay Postfix is set to use
    (main.cf's relayhost), empty for direct delivery. local: this server's own Postfix gave the
    reply, refusing a message handed to it (its log's NOQUEUE reject).
    """
    text = " ".join((text or "").split())
    relayhost = _host(relayhost)
    at_relay = bool(relayhost) and (not relay or relay == "none" or _host(relay) == relayhost)
    code = _dsn(text, dsn)
    # Postfix's own status decides where it has one: it defers a failed SASL login answered
    # with a 5xx (535 5.7.8) and tries again, so that message is not lost yet.
    if (status or "").lower() == "deferred":
        temporary = True
    elif code:
        temporary = code.startswith("4")
    else:
        temporary = bool(re.match(r"\s*4\d\d\b", text))

    if relayhost in LOOPBACK and not local and _LOOPBACK_REFUSED.search(text):
        return _result("oauth2_proxy_not_running", True, temporary)
    for rule in RULES:
        if rule.pattern.search(text):
            here = local or rule.local
            return _result(rule.kind, at_relay and not here, temporary, rule.fix, here)
    own = _postfix_own(text, relayhost, at_relay, temporary)
    if own:
        return own
    if code and code in DSN_KINDS:
        return _result(DSN_KINDS[code], at_relay and not local, temporary, local=local)
    unknown = "unclassified_temporary" if temporary else "unclassified_permanent"
    return _result(unknown, at_relay and not local, temporary, local=local)


def classify_delivery(delivery: dict, relayhost: str) -> dict | None:
    """A delivery's classification (from postfix_log.Assembler.deliveries), None when it was sent."""
    if delivery["status"] == "sent":
        return None
    return classify(
        delivery["reply"],
        delivery["dsn"],
        status=delivery["status"],
        relay=delivery["reply_from"] or delivery["relay"],
        relayhost=relayhost,
        local=delivery["status"] == "rejected",
    ).as_dict()


MAILDROP_PATIENCE = 300  # seconds a message may wait in maildrop while pickup is running


def classify_queue(
    queue: list[dict],
    relayhost: str,
    recipient: str | None = None,
    sender: str | None = None,
    running: bool = True,
    now: float | None = None,
) -> list[dict]:
    """The queue entries (postqueue -j) with this recipient and sender, each recipient with the
    classification of its delay_reason (None when it has none: not yet tried). A message still
    in maildrop, where sendmail leaves it for Postfix's pickup, while Postfix is down (running
    false) or for more than MAILDROP_PATIENCE seconds, means the local Postfix is not running."""
    chosen = []
    for entry in queue:
        recipients = entry.get("recipients") or []
        if sender and (entry.get("sender") or "").lower() != sender.lower():
            continue
        if recipient and not any((r.get("address") or "").lower() == recipient.lower() for r in recipients):
            continue
        arrival = float(entry.get("arrival_time") or 0)
        stuck = entry.get("queue_name") == "maildrop" and (
            not running or (now is not None and now - arrival > MAILDROP_PATIENCE)
        )
        for item in recipients:
            reason = item.get("delay_reason")
            if reason:
                reply, said_by, _command = split_reply(reason)
                item["failure"] = classify(
                    reply, status="deferred", relay=said_by, relayhost=relayhost
                ).as_dict()
            elif stuck:
                item["failure"] = _result("local_mta_not_running", False, True).as_dict()
            else:
                item["failure"] = None
        chosen.append(entry)
    return chosen


def group_problems(problems: list[dict], relayhost: str) -> list[dict]:
    """Postfix's problem lines (postfix_log.Assembler.problems), each text once with its count
    and last time, classified when the text is a known kind."""
    grouped: dict[str, dict] = {}
    for problem in problems:
        entry = grouped.setdefault(
            problem["text"],
            {
                "text": problem["text"],
                "severity": problem["severity"],
                "program": problem["program"],
                "count": 0,
            },
        )
        entry["count"] += 1
        entry["last"] = iso(problem["timestamp"])
    for entry in grouped.values():
        found = classify(entry["text"], relayhost=relayhost)
        entry["failure"] = None if found.kind.startswith("unclassified") else found.as_dict()
    return sorted(grouped.values(), key=lambda e: e["last"] or "")


def findings(deliveries: list[dict], queue: list[dict], problems: list[dict]) -> list[dict]:
    """Each kind of failure found once: its side, title and fix, how often it was seen, a few of
    the recipients it hit and one server text that shows it; the most frequent first."""
    found: dict[str, dict] = {}

    def add(failure: dict | None, recipient: str | None, example: str, count: int = 1) -> None:
        if not failure:
            return
        entry = found.setdefault(
            failure["kind"],
            {
                "kind": failure["kind"],
                "side": failure["side"],
                "title": failure["title"],
                "fix": failure["fix"],
                "count": 0,
                "recipients": [],
                "example": example,
            },
        )
        entry["count"] += count
        if recipient and recipient not in entry["recipients"] and len(entry["recipients"]) < 5:
            entry["recipients"].append(recipient)

    seen = set()  # a deferred message is in the log and in the queue: count it once
    for delivery in deliveries:
        seen.add((delivery["queue_id"], delivery["recipient"]))
        add(delivery.get("failure"), delivery["recipient"], delivery["reply"])
    for entry in queue:
        for item in entry.get("recipients") or []:
            if (entry.get("queue_id"), item.get("address")) not in seen:
                add(item.get("failure"), item.get("address"), item.get("delay_reason") or "")
    # a warning of a kind the messages already show explains those failures: it is no more of them
    # ("certificate verification failed" beside the deferred message's "not verified")
    messages = set(found)
    for problem in problems:
        if (problem.get("failure") or {}).get("kind") not in messages:
            add(problem.get("failure"), None, problem["text"], problem["count"])
    return sorted(found.values(), key=lambda e: -e["count"])


def recipient_verdict(recipient: str, deliveries: list[dict], queue: list[dict], since: str | None) -> str:
    """One sentence for "a student says they got nothing": what became of the mail to this
    recipient, from the queue (waiting now) and the last delivery in the log."""
    wanted = recipient.lower()
    for entry in queue:
        for item in entry.get("recipients") or []:
            if (item.get("address") or "").lower() == wanted:
                failure = item.get("failure")
                why = f": {failure['title']} ({item.get('delay_reason')})" if failure else " (not yet tried)"
                return f"Mail to {recipient} is waiting in the queue ({entry.get('queue_id')}){why}."
    mine = [
        d
        for d in deliveries
        if (d.get("recipient") or "").lower() == wanted
        or (d.get("original_recipient") or "").lower() == wanted
    ]
    if not mine:
        return (
            f"No message to {recipient} in Postfix's log since {since}: Moodle handed none over. Check "
            f"the address in the user's Moodle profile, their notification preferences, and Moodle's "
            f"settings."
        )
    last = mine[-1]
    if last["status"] == "sent":
        return (
            f"The last message to {recipient} ({last.get('queue_id')}) was delivered at {last.get('time')} "
            f"to {last.get('relay')} ({last.get('reply')}); from there it is the receiver's: ask the "
            f"person to look in their spam folder and filters."
        )
    failure = last.get("failure") or {}
    title = failure.get("title", "see the server's text")
    return (
        f"The last message to {recipient} ({last.get('queue_id')}) was {last['status']} at "
        f"{last.get('time')}: {title}. {failure.get('fix', '')}".rstrip()
    )
