# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tag-list of DKIM key records and DMARC records, read once for both.

RFC 6376 section 3.2 defines it, and RFC 7489 section 6.3 uses the same syntax for DMARC:
`tag=value` pairs separated by `;`, blanks around tags, values and separators ignored, a `;`
after the last pair allowed. A tag name that occurs twice makes the whole tag-list invalid
("if a tag name does occur more than once, the entire tag-list is invalid"): a verifier or a
receiver would ignore the record, so no caller may pick one of the two values.

Tag names are case-sensitive in DKIM (RFC 6376 section 3.2); DMARC's grammar (RFC 7489
section 6.4) writes them as ABNF strings, which are case-insensitive, so DMARC folds them to
lower case first (`P=reject` is `p=reject`, and `p=none; P=reject` names p twice).
"""

from __future__ import annotations


class TagListError(ValueError):
    """Not a tag-list; the message names the part that is not."""


def parse_tag_list(
    value: str,
    *,
    fold_case: bool = False,
    error: type[ValueError] = TagListError,
    where: str = "",
) -> dict[str, str]:
    """The tags of a tag-list in their order, names and values stripped of surrounding blanks.
    Raises error (with where, e.g. " in the DMARC record", in its message) for a part without
    '=' and for a tag that occurs twice."""
    tags: dict[str, str] = {}
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, tag_value = part.partition("=")
        if not sep:
            raise error(f"not a tag=value pair{where}: {part!r}")
        name = name.strip().lower() if fold_case else name.strip()
        if name in tags:
            raise error(
                f"tag {name!r} appears twice{where}: the whole tag-list is invalid (RFC 6376 section 3.2)"
            )
        tags[name] = tag_value.strip()
    return tags
