"""The rules of the path mail takes through the DKIM signer (postfix_milter_mode), applied to the
postfix role's own settings as roles/postfix/vars/main.yml writes them and to settings that
would undo them (plugins/filter/mail_policy.py: postfix_signing_problems)."""

from __future__ import annotations

import pathlib

import jinja2
import pytest
import yaml
from ansible_collections.lms.mail.plugins.filter.mail_policy import postfix_signing_problems

VARS = pathlib.Path(__file__).resolve().parents[4] / "roles" / "postfix" / "vars" / "main.yml"
MILTERS = ["inet:127.0.0.1:8891", "inet:127.0.0.1:8892"]


def role_vars(port: int = 10026) -> dict:
    """The signing path's variables of the role, rendered for two milters."""
    raw = yaml.safe_load(VARS.read_text())
    context = {"postfix_milters": MILTERS, "postfix_milter_reinject_port": port}
    context["__postfix_sign_transport"] = raw["__postfix_sign_transport"]
    # main.cf and master.cf text, not HTML
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701

    def render(value):
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        return env.from_string(str(value)).render(context)

    names = [
        "__postfix_sign_listener",
        "__postfix_sign_smtpd_options",
        "__postfix_main_cf_milters_after_queue",
        "__postfix_main_cf_milters_inline",
    ]
    return {name: render(raw[name]) for name in names}


def problems(main_cf_extra: dict | None = None, mode: str = "after_queue", port=10026, **smtpd) -> list[str]:
    v = role_vars()
    main_cf = dict(v[f"__postfix_main_cf_milters_{mode}"])
    main_cf.update(main_cf_extra or {})
    return postfix_signing_problems(
        main_cf,
        extra=main_cf_extra or {},
        mode=mode,
        milters=MILTERS,
        port=port,
        listener=v["__postfix_sign_listener"].replace("10026", str(port)),
        smtpd_options={**v["__postfix_sign_smtpd_options"], **smtpd},
        content_filter=f"dkimsign:[127.0.0.1]:{port}",
    )


@pytest.mark.parametrize("mode", ["after_queue", "inline"])
def test_the_roles_own_settings_are_safe(mode):
    assert problems(mode=mode) == []


def test_after_queue_signs_on_loopback_with_tempfail():
    v = role_vars()
    assert v["__postfix_sign_listener"] == "127.0.0.1:10026"
    assert v["__postfix_main_cf_milters_after_queue"] == {"content_filter": "dkimsign:[127.0.0.1]:10026"}
    options = v["__postfix_sign_smtpd_options"]
    assert (options["milter_default_action"], options["content_filter"]) == ("tempfail", "")
    assert options["smtpd_milters"] == ",".join(MILTERS)


def test_without_milters_nothing_to_check():
    assert postfix_signing_problems({"content_filter": "x"}, milters=[]) == []


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"smtpd_milters": "inet:127.0.0.1:8891"}, "postfix_main_cf_extra.smtpd_milters"),
        ({"non_smtpd_milters": "inet:127.0.0.1:8891"}, "postfix_main_cf_extra.non_smtpd_milters"),
        ({"content_filter": ""}, "postfix_main_cf_extra.content_filter"),
        ({"content_filter": "smtp:[127.0.0.1]:10025"}, "postfix_main_cf_extra.content_filter"),
    ],
)
def test_after_queue_extra_cannot_bypass_the_signer(extra, named):
    found = problems(extra)
    assert len(found) == 1 and found[0].startswith(named), found


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"milter_default_action": "tempfail"}, "postfix_main_cf_extra.milter_default_action"),
        ({"milter_default_action": "reject"}, "postfix_main_cf_extra.milter_default_action"),
        ({"receive_override_options": "no_milters"}, "postfix_main_cf_extra.receive_override_options"),
    ],
)
def test_inline_moodle_is_never_refused_nor_signing_skipped(extra, named):
    found = problems(extra, mode="inline")
    assert len(found) == 1 and found[0].startswith(named), found


@pytest.mark.parametrize("port", [0, 25, 8891, 65536, "10026\n", True])
def test_reinject_port_is_free_and_valid(port):
    assert any(p.startswith("postfix_milter_reinject_port") for p in problems(port=port))


@pytest.mark.parametrize(
    "smtpd",
    [
        {"smtpd_relay_restrictions": "permit"},
        {"smtpd_relay_restrictions": ""},
        {"smtpd_client_restrictions": "permit_mynetworks"},
        {"mynetworks": "127.0.0.0/8 10.0.0.0/8"},
        {"mynetworks": ""},
        {"milter_default_action": "accept"},
        {"content_filter": "dkimsign:[127.0.0.1]:10026"},
        {"smtpd_milters": ""},
        {"syslog_name": "two words"},
    ],
)
def test_the_signing_smtpd_is_no_open_relay_and_holds_unsigned_mail(smtpd):
    assert problems(**smtpd), smtpd


def test_the_signing_smtpd_listens_on_loopback_only():
    v = role_vars()
    found = postfix_signing_problems(
        v["__postfix_main_cf_milters_after_queue"],
        milters=MILTERS,
        listener="0.0.0.0:10026",
        smtpd_options=v["__postfix_sign_smtpd_options"],
        content_filter=v["__postfix_main_cf_milters_after_queue"]["content_filter"],
    )
    assert found == ["the signing smtpd must listen on loopback only ('0.0.0.0:10026')"]


def test_unknown_mode():
    assert postfix_signing_problems({}, mode="later", milters=MILTERS) == [
        "postfix_milter_mode must be after_queue or inline, not 'later'"
    ]
