"""/etc/dkimkeys/DOMAIN is opendkim's: whoever has opendkim's rights can replace a key with a link
(to a root-owned file) or a domain's directory with a link (to a root-owned directory). The next
run, as root, must refuse before any change and leave the link's target exactly as it was
(before the fix it made the target opendkim's, 0600). Checked on one platform: the check is the
role's, whatever the release."""

from __future__ import annotations

import json
import os

import pytest

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "/etc/lms-mail-planted-target"
TARGET_DIR = "/etc/lms-mail-planted-dir"


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


# Replace PATH by a link to TARGET, as opendkim: mv keeps the original to put back afterwards.
PLANT = 'mv "$1" "$1.saved" && ln -s "$2" "$1"'


def plant_as_opendkim(sut, path: str, target: str) -> None:
    run = sut.run(
        "setpriv --reuid=opendkim --regid=opendkim --clear-groups -- sh -c %s sh %s %s", PLANT, path, target
    )
    assert run.rc == 0, run.stderr


def put_back(sut, path: str, target: str) -> None:
    sut.check_output("rm -f %s && mv %s.saved %s && rm -rf %s", path, path, path, target)


def owner_and_mode(sut, path: str) -> str:
    return sut.check_output("stat -c '%%U:%%G %%a %%h' %s", path)


def refused_and_untouched(sut, host, target: str) -> None:
    before = owner_and_mode(sut, target)
    run = lab.converge(SCENARIO, host.backend.host, check=False)
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0, output[-2000:]
    assert "may have planted it" in output, output[-3000:]
    assert lab.recap(run, host.backend.host)["changed"] == 0, output[-3000:]
    assert owner_and_mode(sut, target) == before == "root:root 640 1"


def test_a_key_replaced_by_a_link_is_refused(sut, host):
    selector = json.loads(sut.file("/etc/dkimkeys/lms-mail-selectors.json").content_string)["school.test"]
    key = f"/etc/dkimkeys/school.test/{selector}.private"
    sut.check_output("install -o root -g root -m 0640 /dev/null %s", TARGET)
    plant_as_opendkim(sut, key, TARGET)
    try:
        refused_and_untouched(sut, host, TARGET)
    finally:
        put_back(sut, key, TARGET)


def test_a_domain_directory_replaced_by_a_link_is_refused(sut, host):
    directory = "/etc/dkimkeys/teachers.test"
    sut.check_output("install -d -o root -g root -m 0750 %s", TARGET_DIR)
    sut.check_output("install -o root -g root -m 0640 /dev/null %s/inside", TARGET_DIR)
    plant_as_opendkim(sut, directory, TARGET_DIR)
    try:
        before = owner_and_mode(sut, TARGET_DIR)
        refused_and_untouched(sut, host, f"{TARGET_DIR}/inside")
        assert owner_and_mode(sut, TARGET_DIR) == before
        assert sut.check_output("ls %s", TARGET_DIR) == "inside"
    finally:
        put_back(sut, directory, TARGET_DIR)
