"""Domain `language`: fortune cookies in seven languages, label = language code."""

import re
from collections import Counter, defaultdict

from .common import FORTUNE_DIR, PrepareError, new_notes, package_files, package_version
from .fortunes import decode_fortune_file, fortune_entries

NAME = "language"

# Language code -> package. Each package's fortune files are read in UTF-8
# when they decode as such (all of them do in current Debian); otherwise the
# package's historical legacy encoding is used as a fallback.
LANGUAGE_PACKAGES = {
    "cs": ("fortunes-cs", "iso8859_2"),
    "de": ("fortunes-de", "iso8859_1"),
    "es": ("fortunes-es", "iso8859_1"),
    "it": ("fortunes-it", "iso8859_1"),
    "pl": ("fortunes-pl", "iso8859_2"),
    "pt": ("fortunes-br", "iso8859_1"),
    "ru": ("fortunes-ru", "koi8_r"),
}
# Files that are not running text in the package's language.
LANGUAGE_EXCLUDED_FILES = {
    "de/asciiart",        # ASCII art
    "it/banner",          # ASCII-art banners
    "cs/klasik-sk",       # Slovak, not Czech
}
# English function words that are not words in the seven languages. Entries
# in which they make up >= 20% of the words (and occur at least twice) are
# English quotes, mail or IRC logs, and are dropped from the language domain.
ENGLISH_MARKERS = frozenset(
    "the and is of you that with for this are have what be not your it".split())
LABELS = len(LANGUAGE_PACKAGES)
PACKAGES = sorted(p for p, _ in LANGUAGE_PACKAGES.values())


def looks_english(text):
    words = re.findall(r"\w+", text.lower())
    hits = sum(w in ENGLISH_MARKERS for w in words)
    return hits >= 2 and hits >= 0.2 * len(words)


def build():
    notes = new_notes()
    versions, candidates, files_used = {}, [], defaultdict(list)
    english = Counter()
    for lang, (pkg, legacy) in sorted(LANGUAGE_PACKAGES.items()):
        versions[pkg] = package_version(pkg)
        for path in package_files(pkg):
            try:
                rel = path.relative_to(FORTUNE_DIR).as_posix()
            except ValueError:
                continue                      # docs, helper scripts
            if (path.suffix in (".dat", ".u8") or "off" in path.parts
                    or rel in LANGUAGE_EXCLUDED_FILES):
                continue                      # indexes, empty/alias copies, offensive
            files_used[lang].append(rel)
            for entry in fortune_entries(decode_fortune_file(path, legacy, notes)):
                if looks_english(entry):
                    english[lang] += 1
                else:
                    candidates.append((entry, lang))
    if not candidates:
        raise PrepareError("no fortune files found for the language domain; run scripts/setup")
    used = "\n".join(f"- `{lang}` ({LANGUAGE_PACKAGES[lang][0]}, fallback encoding "
                     f"{LANGUAGE_PACKAGES[lang][1]}): " + ", ".join(files_used[lang])
                     for lang in sorted(files_used))
    info = {
        "unlabelled_source": "entries beyond the cap",
        "packages": versions,
        "description": (
            "Fortune cookies in seven languages, one Debian package per language; "
            "the label is the language code (`pt` for Brazilian Portuguese, fortunes-br). "
            f"All regular fortune files a package installs under {FORTUNE_DIR} are used, "
            "except `.dat` indexes, `.u8` aliases (symlinks, or empty files in fortunes-pl), "
            "offensive sections (`off/` directories) and files that are not running text "
            "in the language: " + ", ".join(sorted(LANGUAGE_EXCLUDED_FILES)) + ".\n\n"
            "Encoding: every file is decoded as strict UTF-8 when valid, otherwise in its "
            "package's legacy encoding (KOI8-R for ru, ISO-8859-2 for pl and cs, "
            "ISO-8859-1 for de, es, it and pt). Double-encoded UTF-8 (mojibake such as "
            "`Ã©`) is repaired, and terminal escapes, IRC colour codes and other control "
            "characters are removed.\n\n"
            "Entries that are mostly English (at least two and at least 20% of the words "
            "from: " + " ".join(sorted(ENGLISH_MARKERS)) + ") are dropped; that removed "
            + ", ".join(f"{english[l]} {l}" for l in sorted(LANGUAGE_PACKAGES)) + ".\n\n"
            "Files used per language:\n\n" + used
        ),
        "notes": notes,
    }
    return candidates, info
