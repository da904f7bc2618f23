"""Run the lms.mail.dns role as site.yml would, through a real `ansible-playbook` with the
repository's ansible.cfg, and read back what it printed and the dns_published fact it exported."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SHOW_PUBLISHED = "Show the exported records for the test"


def printed_published(stdout: str) -> list[dict[str, str]] | None:
    """dns_published as the play's last task printed it for the first host: the YAML indented
    under `ok: [host] =>` (from -vv the task's path comes between), or None when the run did not
    get that far. run_role fixes the output's form (callback, YAML, no colour)."""
    match = re.search(
        rf"TASK \[{SHOW_PUBLISHED}\].*?\nok: \[[^\]]+\] =>[^\n]*\n((?:[ ]+[^\n]*(?:\n|\Z))+)", stdout, re.S
    )
    return yaml.safe_load(match.group(1))["dns_published"] if match else None


@dataclasses.dataclass
class RoleRun:
    returncode: int
    stdout: str
    stderr: str
    published: list[dict[str, str]] | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def flat(self) -> str:
        """The output with the YAML callback's line wrapping undone (it folds long values at
        spaces), so that a printed record can be looked for as one string."""
        return re.sub(r"\s*\n\s*", " ", self.output)

    def recap(self, host: str = "localhost") -> dict[str, int]:
        match = re.search(rf"^{re.escape(host)}\s+:\s+(.*)$", self.stdout, re.MULTILINE)
        assert match, f"no recap for {host}:\n{self.output}"
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}

    def failure(self, host: str) -> str:
        """The flattened text of the host's failure, up to the next task or host."""
        match = re.search(
            rf"fatal: \[{re.escape(host)}\]: FAILED! =>(.*?)(?=\nfatal: |\nTASK |\nPLAY |\Z)",
            self.stdout,
            re.S,
        )
        assert match, f"{host} did not fail:\n{self.output}"
        return re.sub(r"\s*\n\s*", " ", match.group(1))


def run_role(
    tmp_path: Path,
    variables: dict[str, Any],
    *extra: str,
    env: dict[str, str] | None = None,
    hosts: dict[str, dict[str, Any]] | None = None,
) -> RoleRun:
    """ansible-playbook applying lms.mail.dns on localhost (connection local) with `variables`
    as play vars; `hosts` runs several local hosts at once, each with its own host vars."""
    play = {
        "name": "DNS records",
        "hosts": "all",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable, **variables},
        "roles": [{"role": "lms.mail.dns"}],
        "post_tasks": [
            # printed, not written to a file: a copy task is two module runs (1.2 s of a role run)
            {"name": SHOW_PUBLISHED, "ansible.builtin.debug": {"var": "dns_published"}},
        ],
    }
    playbook = tmp_path / "dns.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts or {"localhost": {}}}}))
    run_env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        # the output's form, whatever the environment says: the tests read it
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        ANSIBLE_CALLBACK_RESULT_FORMAT="yaml",
        ANSIBLE_DISPLAY_OK_HOSTS="true",
        ANSIBLE_DISPLAY_ARGS_TO_STDOUT="false",
    )
    for variable in ("CLOUDFLARE_API_TOKEN", "DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"):
        run_env.pop(variable, None)  # only the tokens a test gives
    run_env.update(env or {})
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra],
        cwd=REPO,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return RoleRun(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        printed_published(proc.stdout),
    )
