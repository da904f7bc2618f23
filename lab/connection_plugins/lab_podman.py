# The lab's connection to its podman containers: containers.podman.podman with pipelining.
#
# containers.podman.podman runs `podman exec` without stdin, so Ansible cannot pipe a module into
# the container's Python: every task costs a `podman mount`, a temporary directory, a copy, a
# chmod, the run and a removal, each its own podman process (and a `podman container cleanup`
# after each exec). With `podman exec -i` a task is one exec; on a 2-core machine running the
# tests, podman's own processes were the largest user of the CPU. The lab and the tests only.

from __future__ import annotations

DOCUMENTATION = """
    name: lab_podman
    short_description: Run tasks in the lab's podman containers, one `podman exec` per task
    description:
      - containers.podman.podman with pipelining; files go in and out through `podman exec`.
    options:
      remote_addr:
        description: The container's name or ID.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: The user commands run as in the container; the image's default if unset.
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Arguments given to podman before its command.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: The podman command.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
"""

import shlex

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as Podman

# the file's path is the script's first argument, never part of the script
WRITE = ["/bin/sh", "-c", 'cat > "$1"', "sh"]


class Connection(Podman):
    transport = "lab_podman"
    has_pipelining = True

    def _connect(self):
        ConnectionBase._connect(self)  # no `podman mount`: files go through exec below
        self._connected = True
        return self

    def _exec(self, argv: list, in_data: bytes | None = None):
        args = ["exec", "--interactive"] if in_data is not None else ["exec"]
        if self.user:
            args += ["--user", self.user]
        return self._podman(args, argv, in_data)

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        return self._exec(shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)

    @ensure_connect
    def put_file(self, in_path, out_path):
        ConnectionBase.put_file(self, in_path, out_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as source:
            rc, _, stderr = self._exec([*WRITE, out_path], source.read())
        if rc != 0:
            raise AnsibleError(f"writing {out_path} in {self._container_id}: {to_native(stderr)}")

    @ensure_connect
    def fetch_file(self, in_path, out_path):
        ConnectionBase.fetch_file(self, in_path, out_path)
        rc, stdout, stderr = self._exec(["cat", in_path])
        if rc != 0:
            raise AnsibleError(f"fetching {in_path} from {self._container_id}: {to_native(stderr)}")
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as target:
            target.write(stdout)
