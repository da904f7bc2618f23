"""Run-time copies of the community modules whose API end point cannot be set from a task,
pointed at this run's emulators.

- community.general.cloudflare_dns has its end point as a class attribute (`cf_api_endpoint`).
- community.digitalocean.digital_ocean_domain_record does not accept `baseurl` (its argument
  spec lacks the option other modules of that collection take), so DigitalOceanHelper's default
  end point in module_utils/digital_ocean.py is what it calls.

The copies go into a collections directory inside the run's temporary directory, which is put
in front of ANSIBLE_COLLECTIONS_PATH only for the runs of those two modules. The end point to
replace is read from the installed source with a regular expression, so no API host name is
written anywhere in this repository; the copy is checked to contain no trace of it afterwards.
Everything else in the files is byte for byte the installed code.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

_CLOUDFLARE_ENDPOINT = re.compile(r"""cf_api_endpoint\s*=\s*(['"])(?P<url>https?://[^'"]+)\1""")
_DIGITALOCEAN_BASEURL = re.compile(r"""^\s*baseurl\s*=\s*(['"])(?P<url>https?://[^'"]+)\1""", re.M)


def installed_collection(name: str) -> Path:
    """The directory of an installed collection (the `ansible` package bundles them)."""
    spec = importlib.util.find_spec(f"ansible_collections.{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"collection {name} is not installed: pip install 'ansible>=12,<13'")
    return Path(next(iter(spec.submodule_search_locations)))


def _patched(source: Path, pattern: re.Pattern[str], endpoint: str) -> str:
    text = source.read_text()
    found = pattern.search(text)
    if found is None:
        raise RuntimeError(f"no API end point found in {source}: the module changed, adapt {__file__}")
    original = found.group("url")
    patched = text.replace(original, endpoint)
    if original in patched:
        raise RuntimeError(f"{source}: the end point {original} is still in the patched copy")
    return patched


def _write(root: Path, relative: str, text: str) -> Path:
    target = root / "ansible_collections" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def patched_collections(root: Path, cloudflare_base_url: str, digitalocean_base_url: str) -> Path:
    """Write the patched copies under `root` and return `root` (a collections path entry).

    cloudflare_base_url: the emulator's `<origin>/client/v4`; digitalocean_base_url: its
    `<origin>/v2` (without the trailing slash DigitalOceanHelper adds itself).
    """
    general = installed_collection("community.general")
    _write(
        root,
        "community/general/plugins/modules/cloudflare_dns.py",
        _patched(general / "plugins/modules/cloudflare_dns.py", _CLOUDFLARE_ENDPOINT, cloudflare_base_url),
    )
    digitalocean = installed_collection("community.digitalocean")
    _write(
        root,
        "community/digitalocean/plugins/module_utils/digital_ocean.py",
        _patched(
            digitalocean / "plugins/module_utils/digital_ocean.py",
            _DIGITALOCEAN_BASEURL,
            digitalocean_base_url.rstrip("/"),
        ),
    )
    module = "plugins/modules/digital_ocean_domain_record.py"
    _write(root, f"community/digitalocean/{module}", (digitalocean / module).read_text())
    return root
