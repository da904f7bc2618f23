# lms.mail: the two entry points are `make demo` and `make test` (see README.md); `make check`
# is the quick one while working: yamllint, ruff, ansible-lint and the tests that need no lab.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
# The lab's own podman settings; a user's podman configuration is never edited.
export CONTAINERS_CONF := $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR := 0
# Longest first: molecule/run-scenarios runs them MOLECULE_LANES at a time. Three on two cores:
# with two, the cores were idle nearly half the time (the scenarios mostly wait for mail, DNS
# and services). moodle_real runs where Moodle's source is on the machine (lab/moodle-source),
# else it is skipped with one line saying how to get it.
SCENARIOS := moodle_real dkim moodle relay oauth2 site direct
MOLECULE_LANES := 3
# tests/operator's fresh controller installs from the wheelhouse, not from the network. The 25
# slowest tests are printed: the pytest lane is one of the longest of CI (2085 s in stop 19's trial).
UNIT := python tests/operator/wheelhouse.py && pytest --durations=25

.PHONY: demo test check docs lint unit molecule unit-and-molecule bench host venv images lab lab-down clean

## demo: bring up the lab, run the main job against it; it ends with the proof (roles/verify)
demo: lab
	ansible-playbook site.yml

## test: lint, then pytest and every Molecule scenario side by side
test: lint unit-and-molecule

## check: the quick one while working, under 2 minutes on 2 cores: yamllint, ruff and ansible-lint
## (production profile), and beside them every test that needs no lab (pure, or against a BIND,
## Dovecot, API emulator or ansible-playbook on this machine) with podman hidden: a test that calls
## it fails the run, named (tests/no-podman/podman); the lab's tests are marked in tests/conftest.py.
## No container starts. ansible-test sanity is `make lint`'s (so `make test`'s and CI's): it checks
## the built artifact as Galaxy's importer would, and its pylint alone is ~25 s of CPU; beside the
## rest make check took 149 s, 93 s without it. Lint mostly computes and the tests mostly wait, so they
## run at once; lint's output is printed after the tests'. pytest in three processes (make check
## took 101 s with three, 105 with two, 122 with four: each costs start-up CPU), under a short
## temporary directory (Dovecot's socket paths under it must stay within 108 bytes); worksteal: a
## process that is done takes tests queued for another, so the role runs, which sit together in
## tests/dns_role, do not end on one.
check: venv host
	python tests/operator/wheelhouse.py
	@log=$$(mktemp); calls=$$(mktemp); base=$$(mktemp -d /tmp/check.XXXXXX); \
	$(MAKE) --no-print-directory -j 2 --output-sync=target lint-files lint-ansible > $$log 2>&1 & linting=$$!; \
	PATH=$(CURDIR)/tests/no-podman:$$PATH CONTAINERS_CONF=/nonexistent LMSMAIL_PODMAN_CALLS=$$calls \
	  pytest -m 'not lab and not slow' -n 3 --dist worksteal --basetemp=$$base; code=$$?; \
	if [ -s $$calls ]; then \
	  echo "make check: these tests called podman (the lab): list them in LAB_TESTS, tests/conftest.py"; \
	  sort -u $$calls; code=1; \
	fi; \
	wait $$linting; linted=$$?; echo "=== lint (yamllint, ruff, ansible-lint):"; cat $$log; \
	if [ $$linted -ne 0 ]; then echo "make check: lint failed (above)"; code=1; fi; \
	rm -rf $$log $$calls $$base; exit $$code

## docs: each role README's variable table, from its meta/argument_specs.yml (tests/docs checks it)
docs: venv
	python tests/docs/role_variables.py

## lint: its three parts at once, each printed whole when it ends: ansible-lint and ansible-test
## sanity take about a minute of CPU each, and one after the other took twice as long.
lint: venv
	@$(MAKE) --no-print-directory -j 3 --output-sync=target lint-files lint-ansible lint-sanity

.PHONY: lint-files lint-ansible lint-sanity
lint-files:
	yamllint --strict .
	ruff check .
	ruff format --check .

# ansible.cfg makes a play matching no host an error; the lab's playbooks address groups they
# create with add_host, which a syntax check (run without them) cannot see.
lint-ansible:
	ANSIBLE_HOST_PATTERN_MISMATCH=warning ansible-lint

# ansible-test sanity on the built collection (tests/sanity/run.py says how it runs here)
lint-sanity:
	python tests/sanity/run.py

unit: venv host lab
	$(UNIT)

molecule: venv lab
	molecule/run-scenarios --lanes $(MOLECULE_LANES) $(SCENARIOS)

# `make unit` in a lane of its own beside `make molecule`'s: pytest mostly waits too (on BIND,
# the lab's MX, playbooks in containers), and alone ahead of the scenarios it added its 9 minutes
# to every CI run. Each into its own log, printed whole when it ends; fails when one failed.
unit-and-molecule: venv host lab
	molecule/run-scenarios --lanes $(MOLECULE_LANES) --job 'pytest=$(UNIT)' $(SCENARIOS)

## bench: the benchmarks under bench/, each a ratio against a baseline measured in the same run
bench: venv host images
	python bench/dns/run.py
	python bench/dkim/run.py
	python bench/burst/run.py
	python bench/converge/run.py
	python bench/rerun/run.py
	python bench/fleet/run.py

host:
	lab/install-host-packages

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

images: host
	lab/build-images

lab: venv images
	ansible-playbook lab/up.yml

lab-down: venv
	ansible-playbook lab/down.yml

clean: lab-down
	rm -rf $(VENV)
