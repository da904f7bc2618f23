"""Fresh lab hosts for the converge, rerun and fleet benchmarks: containers of the lab image whose
Postfix and OpenDKIM are purged (with what they alone pulled in), as tests/operator makes a
customer's new server, and whose apt takes those packages from a local file repository, so
that installing them costs what it costs on a real server minus the download, and nothing
leaves this machine. An inventory of the customer template's shape (inventories/customer) for
them, in a directory of its own."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAB = yaml.safe_load((ROOT / "lab" / "lab.yml").read_text())
DEB_CACHE = pathlib.Path(os.environ.get("LMS_MAIL_BENCH_DEBS", "/var/tmp/lmsmail-bench-debs"))  # noqa: S108 - a cache kept between runs
# What the roles install (roles/postfix/vars __postfix_packages, roles/dkim/vars __dkim_packages).
ROLE_PACKAGES = ["postfix", "libsasl2-modules", "ca-certificates", "opendkim", "opendkim-tools", "openssl"]
# What a new server lacks: the lab image has them; purged with --autoremove, their own
# dependencies go too.
PURGED = ["postfix", "opendkim", "opendkim-tools"]
REPO_MOUNT = "/srv/lmsmail-debs"


def podman(*args: str, check: bool = True, timeout: float | None = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check, timeout=timeout)


def ensure_debs(release: str) -> pathlib.Path:
    """The .deb files a purged host needs again, in a flat repository. Made once: which packages
    and versions, from a purge and a simulated install in the lab image without a network; the
    files by `apt-get download` on this machine, from the Debian mirror its own apt uses (as
    lab/build-images does); the measured runs never touch the network."""
    repo = DEB_CACHE / release
    if (repo / "Packages").exists():
        return repo
    image = LAB["lab_images"][release]
    plan = podman(
        "run", "--rm", "--network", "none", image, "sh", "-c",
        f"DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove {' '.join(PURGED)} >/dev/null 2>&1;"
        f" apt-get -s install {' '.join(ROLE_PACKAGES)}",
    ).stdout  # fmt: skip
    wanted = [
        f"{line.split()[1]}={line.split()[2].lstrip('(')}"
        for line in plan.splitlines()
        if line.startswith("Inst ")
    ]
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *wanted], cwd=repo, check=True, capture_output=True)
    index = subprocess.run(["dpkg-scanpackages", "."], cwd=repo, check=True, capture_output=True, text=True)
    (repo / "Packages").write_text(index.stdout)
    return repo


def start_host(name: str, release: str, repo: pathlib.Path, hostname: str) -> str:
    """A fresh host: returns its address on the lab network."""
    podman(
        "run", "-d", "--name", name, "--hostname", hostname, "--network", LAB["lab_network"],
        "--dns", LAB["lab_parts"]["dns"]["ip"], "--systemd=always", "--label", "lms.mail.lab=bench",
        "-v", f"{repo}:{REPO_MOUNT}:ro", LAB["lab_images"][release], "/sbin/init",
    )  # fmt: skip
    prepare = (
        f"DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove {' '.join(PURGED)} >/dev/null"
        " && rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/*"
        f" && echo 'deb [trusted=yes] file:{REPO_MOUNT} ./' > /etc/apt/sources.list"
        " && apt-get update -q >/dev/null"
    )
    for _ in range(30):  # systemd inside the container needs a moment before apt's triggers work
        if podman("exec", name, "systemctl", "is-system-running", check=False).stdout.strip() in (
            "running",
            "degraded",
        ):
            break
        time.sleep(2)
    podman("exec", name, "sh", "-c", prepare)
    address = podman("inspect", name, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
    return address.stdout.strip()


def remove_hosts(names: list[str]) -> None:
    for name in names:
        podman("rm", "-f", "-t", "0", name, check=False)


def write_inventory(directory: pathlib.Path, hosts: dict[str, str]) -> pathlib.Path:
    """The customer template's shape (inventories/customer): hosts.yml with the group moodle,
    group_vars/moodle/main.yml with the facts, records printed (dns_provider none). Lab-only:
    podman instead of SSH, the lab's DNS as the resolver, each host's own lab address as its
    public one (the lab network has no default route)."""
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "group_vars" / "moodle").mkdir(parents=True)
    inventory = {
        "moodle": {
            "hosts": {
                name: {
                    "ansible_connection": "lab_podman",
                    "ansible_python_interpreter": "/usr/bin/python3",
                    "ansible_podman_extra_env": {"CONTAINERS_CONF": os.environ["CONTAINERS_CONF"]},
                    "mail_hostname": f"{name.removeprefix('lmsmail-')}.school.test",
                    "dns_public_ipv4": address,
                }
                for name, address in hosts.items()
            }
        }
    }
    (directory / "hosts.yml").write_text("---\n" + yaml.safe_dump(inventory, sort_keys=False))
    facts = {
        "mail_domain": "school.test",
        "postfix_transport": "direct",
        "moodle_dir": "/var/www/moodle",
        "moodle_dataroot": "/var/www/moodledata",
        "moodle_noreplyaddress": "noreply@school.test",
        "moodle_forum_mode": "noreply",
        "dns_resolver": [LAB["lab_parts"]["dns"]["ip"]],
    }
    (directory / "group_vars" / "moodle" / "main.yml").write_text(
        "---\n" + yaml.safe_dump(facts, sort_keys=False)
    )
    return directory


def moodle_standin(hosts: list[str]) -> None:
    """Moodle's stand-in tree on each host (lab/moodle-standin.yml), as every lab host has it."""
    run = subprocess.run(
        ["ansible-playbook", "lab/moodle-standin.yml", "-i", ",".join(hosts) + ",",
         "-e", "ansible_connection=lab_podman",
         "-e", "ansible_python_interpreter=/usr/bin/python3",
         "-e", json.dumps({"moodle_dir": "/var/www/moodle", "moodle_dataroot": "/var/www/moodledata",
                           "mail_hostname": "standin.school.test"})],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        raise SystemExit(f"the Moodle stand-in failed:\n{run.stdout[-3000:]}")


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP -> {host: {ok, changed, failed, ...}}."""
    hosts: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and ":" in line and "=" in line:
            host, counts = line.split(":", 1)
            hosts[host.strip()] = {k: int(v) for k, v in (pair.split("=") for pair in counts.split())}
    return hosts


def load() -> float:
    return round(os.getloadavg()[0], 1)
