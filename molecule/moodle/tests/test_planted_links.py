"""Root writes config.php, the settings file and its secrets file in Moodle's directory, which the
web server's user can often write. One of them replaced by a link to a root-owned file must be
refused by path before any change, even at --diff: lineinfile would have edited the link's target
(config.php), and a template's diff would have shown the target's content. Checked on one
platform: the checks are the role's, whatever the release (the data root's keys are
test_settings.py's)."""

from __future__ import annotations

import moodle_site
import pytest
from moodle_site import CONFIG_PHP, SETTINGS_FILE

from tests import lab

SECRETS_FILE = "/var/www/moodle/config-mail-secrets.php"
TARGET = "/etc/lms-mail-planted-target.php"
# What the target holds: PHP that loads (so that nothing else stops the run first), and a text no
# output may show. Readable by the web user, as /etc/passwd or a PHP file of another site is.
TARGET_TEXT = "<?php // lms-mail-planted-5e1f\n"


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


def test_files_replaced_by_links_are_refused_and_their_target_never_shown(sut, host):
    """All three at once, in one run (the scenario's lane is long): each is named."""
    paths = [CONFIG_PHP, SETTINGS_FILE, SECRETS_FILE]
    sut.check_output("install -o root -g root -m 0644 /dev/null %s", TARGET)
    sut.check_output("printf %%s %s > %s", TARGET_TEXT, TARGET)
    for path in paths:
        sut.check_output("mv %s %s.kept && ln -s %s %s", path, path, TARGET, path)
    state = f"stat -c '%U:%G %a %s %Y' {TARGET}; sha256sum {TARGET}"
    before = sut.check_output(state)
    try:
        run = moodle_site.converge(host.backend.host, options=("--diff",), check=False)
        output = run.stdout + run.stderr
        assert run.returncode != 0, output[-2000:]
        message = f"{', '.join(paths)}: a link, or not a regular file"
        assert message in " ".join(output.split()), output[-3000:]
        assert lab.recap(run, host.backend.host)["changed"] == 0, output[-3000:]
        assert "lms-mail-planted-5e1f" not in output, "the link's target was shown"
        assert sut.check_output(state) == before
    finally:
        for path in paths:
            sut.check_output("rm -f %s && mv %s.kept %s", path, path, path)
        sut.check_output("rm -f %s", TARGET)
