"""/etc/dkimkeys is root's, readable by opendkim (root:opendkim 0750, keys 0640): opendkim can
plant nothing there. Before, the directories were opendkim's, and whoever had opendkim's rights
could replace a key with a link (to a root-owned file) or a domain's directory with a link (to a
root-owned directory), or the selector state root kept there. A link left from that time must be
refused before any change, its target left exactly as it was; the state of that time is moved to
root's /var/lib/lms-mail only if root wrote it. Checked on one platform: the checks are the role's,
whatever the release."""

from __future__ import annotations

import json
import os

import pytest

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "/etc/lms-mail-planted-target"
TARGET_DIR = "/etc/lms-mail-planted-dir"
STATE = "/var/lib/lms-mail/dkim-selectors.json"
OLD_STATE = "/etc/dkimkeys/lms-mail-selectors.json"
AS_OPENDKIM = "setpriv --reuid=opendkim --regid=opendkim --clear-groups -- "


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


def selectors(sut) -> dict:
    return json.loads(sut.file(STATE).content_string)


def old_layout(sut) -> None:
    """The key directory as runs before this layout left it: opendkim's, the state inside it."""
    sut.check_output("mv %s %s", STATE, OLD_STATE)
    sut.check_output(
        "find /etc/dkimkeys -type d -exec chown opendkim:opendkim {} + -exec chmod 0700 {} + "
        "&& find /etc/dkimkeys -name '*.private' -exec chown opendkim:opendkim {} + -exec chmod 0600 {} +"
    )


def plant(sut, path: str, target: str) -> None:
    """A link where the role reads or writes, left from the time opendkim owned the directory
    (mv keeps the original to put back afterwards)."""
    sut.check_output('mv "%s" "%s.saved" && ln -s "%s" "%s"', path, path, target, path)


def put_back(sut, path: str, target: str) -> None:
    sut.check_output("rm -f %s && mv %s.saved %s && rm -rf %s", path, path, path, target)


def owner_and_mode(sut, path: str) -> str:
    return sut.check_output("stat -c '%%U:%%G %%a %%h' %s", path)


def refused_and_untouched(sut, host, target: str, expected: str = "may have planted it") -> None:
    before = owner_and_mode(sut, target)
    run = lab.converge(SCENARIO, host.backend.host, check=False)
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0, output[-2000:]
    assert expected in output, output[-3000:]
    assert lab.recap(run, host.backend.host)["changed"] == 0, output[-3000:]
    assert owner_and_mode(sut, target) == before == "root:root 640 1"


def test_opendkim_can_plant_nothing_in_the_key_directories(sut):
    key = sut.check_output("ls /etc/dkimkeys/school.test/*.private").split()[0]
    for attempt in (
        "ln -s /etc/shadow /etc/dkimkeys/school.test/planted.private",
        f"mv {key} {key}.saved",
        "ln -s /etc /etc/dkimkeys/planted.test",
        f"ln -s /etc/shadow {OLD_STATE}",
    ):
        run = sut.run(AS_OPENDKIM + attempt)
        assert run.rc != 0 and "Permission denied" in run.stderr, (attempt, run.stdout, run.stderr)
    # and it still reads its keys: the signer runs (the signatures are test_dkim's)
    assert sut.run(AS_OPENDKIM + "cat %s", key).stdout.startswith("-----BEGIN PRIVATE KEY-----")


def test_a_key_replaced_by_a_link_is_refused(sut, host):
    key = f"/etc/dkimkeys/school.test/{selectors(sut)['school.test']}.private"
    sut.check_output("install -o root -g root -m 0640 /dev/null %s", TARGET)
    plant(sut, key, TARGET)
    try:
        refused_and_untouched(sut, host, TARGET)
    finally:
        put_back(sut, key, TARGET)


def test_a_key_it_does_not_sign_with_replaced_by_a_link_is_refused(sut, host):
    """A key a rotation or an import left (no selector signs with it), which the role still
    takes over: a link there from the old layout's time is refused as well."""
    left = "/etc/dkimkeys/school.test/left1.private"
    sut.check_output("install -o root -g root -m 0640 /dev/null %s", TARGET)
    sut.check_output("ln -s %s %s", TARGET, left)
    try:
        refused_and_untouched(sut, host, TARGET)
    finally:
        sut.check_output("rm -f %s %s", left, TARGET)


def test_a_domain_directory_replaced_by_a_link_is_refused(sut, host):
    directory = "/etc/dkimkeys/teachers.test"
    sut.check_output("install -d -o root -g root -m 0750 %s", TARGET_DIR)
    sut.check_output("install -o root -g root -m 0640 /dev/null %s/inside", TARGET_DIR)
    plant(sut, directory, TARGET_DIR)
    try:
        before = owner_and_mode(sut, TARGET_DIR)
        refused_and_untouched(sut, host, f"{TARGET_DIR}/inside")
        assert owner_and_mode(sut, TARGET_DIR) == before
        assert sut.check_output("ls %s", TARGET_DIR) == "inside"
    finally:
        put_back(sut, directory, TARGET_DIR)


def test_the_old_layout_is_taken_over_its_state_moved_only_if_root_wrote_it(sut, host):
    """A host of an earlier run: keys and selector state in opendkim's directory. First opendkim
    swaps root's state for a link to a file naming a selector of its choice: the role reads
    nothing through it and changes nothing. Without the link, one run makes the directories
    root's (0750) and the keys 0640, both readable by opendkim, and moves root's state to
    /var/lib/lms-mail, the selectors unchanged."""
    current = selectors(sut)
    # a key no selector signs with any more (a rotation's old one, or an import's), kept until
    # the rotation retires it
    left = "/etc/dkimkeys/school.test/left0.private"
    sut.check_output("cp /etc/dkimkeys/school.test/%s.private %s", current["school.test"], left)
    old_layout(sut)
    sut.check_output("install -o root -g root -m 0640 /dev/null %s", TARGET)
    sut.check_output('echo \'{"school.test": "chosen"}\' > %s', TARGET)
    run = sut.run(AS_OPENDKIM + "sh -c %s", f"mv {OLD_STATE} {OLD_STATE}.saved && ln -s {TARGET} {OLD_STATE}")
    assert run.rc == 0, run.stderr
    try:
        refused_and_untouched(sut, host, TARGET, f"{OLD_STATE}: Too many levels of symbolic links")
        assert "chosen" not in sut.file("/etc/opendkim/SigningTable").content_string
    finally:
        sut.check_output("rm -f %s %s && mv %s.saved %s", OLD_STATE, TARGET, OLD_STATE, OLD_STATE)

    lab.converge(SCENARIO, host.backend.host)
    assert not sut.file(OLD_STATE).exists
    assert selectors(sut) == current
    assert owner_and_mode(sut, STATE) == "root:root 600 1"
    assert owner_and_mode(sut, "/var/lib/lms-mail") == "root:root 700 2"
    # the directories, the keys the role signs with and those it keeps until a rotation retires them
    for directory in ["/etc/dkimkeys", *(f"/etc/dkimkeys/{domain}" for domain in current)]:
        assert sut.check_output("stat -c '%%U:%%G %%a' %s", directory) == "root:opendkim 750"
    for domain, selector in current.items():
        assert owner_and_mode(sut, f"/etc/dkimkeys/{domain}/{selector}.private") == "root:opendkim 640 1"
    try:
        keys = sut.check_output("find /etc/dkimkeys -name '*.private'").split()
        assert left in keys
        assert {key: owner_and_mode(sut, key) for key in keys} == dict.fromkeys(keys, "root:opendkim 640 1")
    finally:
        sut.check_output("rm -f %s", left)
    assert sut.service("opendkim").is_running
