"""One description of each role variable: meta/argument_specs.yml. The README tables are generated
from it (tests/docs/role_variables.py, `make docs`) and defaults/main.yml defines exactly its
options; a variable added in one place only fails here."""

from __future__ import annotations

import pytest

from tests.docs import role_variables as docs

ROLES = docs.roles()


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_the_readme_table_is_the_generated_one(role):
    path = role / "README.md"
    text = path.read_text()
    assert docs.rewritten(text, docs.table(role), path) == text, (
        f"{path.relative_to(docs.ROOT)}: the variable table differs from argument_specs.yml: make docs"
    )


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_define_exactly_the_documented_options(role):
    documented = set(docs.specs(role)["options"])
    defined = set(docs.defaults(role))
    assert not defined - documented, f"{role.name}: only in defaults/main.yml: {sorted(defined - documented)}"
    assert not documented - defined, f"{role.name}: only in argument_specs: {sorted(documented - defined)}"


def test_markup_becomes_markdown():
    assert docs.markdown("O(dkim_domains) or C(a|b), see L(the RFC,https://x.test) and I(this)") == (
        "`dkim_domains` or `a\\|b`, see the RFC and *this*"
    )
