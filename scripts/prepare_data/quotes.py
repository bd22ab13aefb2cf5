"""Domain `quotes`: English fortune cookies, label = category file."""

from .common import FORTUNE_DIR, PrepareError, new_notes, package_files, package_version
from .fortunes import decode_fortune_file, fortune_entries

NAME = "quotes"
QUOTES_CATEGORIES = ("computers", "education", "food", "law", "politics", "science")

LABELS = len(QUOTES_CATEGORIES)
PACKAGES = ["fortunes"]


def build():
    pkg = "fortunes"
    version = package_version(pkg)
    owned = set(package_files(pkg))
    notes = new_notes()
    candidates = []
    for category in QUOTES_CATEGORIES:
        path = FORTUNE_DIR / category
        if path not in owned:
            raise PrepareError(f"{path} is not in package {pkg}; run scripts/setup")
        for entry in fortune_entries(decode_fortune_file(path, "iso8859_1", notes)):
            candidates.append((entry, category))
    extra = []                                # the package's other categories, unlabelled
    for path in sorted(owned):
        if (path.parent == FORTUNE_DIR and path.suffix not in (".dat", ".u8")
                and path.name not in QUOTES_CATEGORIES and path.is_file()):
            extra += fortune_entries(decode_fortune_file(path, "iso8859_1", new_notes()))
    info = {
        "unlabelled_extra": extra,
        "unlabelled_source": "entries of the labelled categories beyond the cap, and of the "
                             "package's other categories",
        "packages": {pkg: version},
        "description": (
            "English fortune cookies from the Debian package `fortunes` "
            f"({FORTUNE_DIR}/<category>; entries are separated by lines holding only `%`). "
            "The label is the category file name. The six categories are topical ones "
            "with enough entries after filtering: " + ", ".join(QUOTES_CATEGORIES) + ". "
            "Attribution lines (`-- Author`) are kept as part of the text. Overstrike "
            "sequences (`_\\bX`) are reduced to the printed character, double-encoded "
            "UTF-8 (mojibake) is repaired and control characters are removed."
        ),
        "notes": notes,
    }
    return candidates, info
