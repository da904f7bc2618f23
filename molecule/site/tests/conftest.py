"""The verifier's own Ansible runs (testinfra's inventory, lab.converge, lab.dns_module) at the
default verbosity and outside the converge's log: molecule.yml sets ANSIBLE_VERBOSITY and
ANSIBLE_LOG_PATH for the converge and idempotence runs, and Molecule hands its provisioner's
environment to the verifier too. tests/test_secrets.py asks for -vvv --diff itself."""

from __future__ import annotations

import os

for _variable in ("ANSIBLE_VERBOSITY", "ANSIBLE_LOG_PATH"):
    os.environ.pop(_variable, None)
