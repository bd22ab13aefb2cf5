"""What every domain builder shares: limits, the error type, Debian package
queries and the text cleaning applied to every source."""

import hashlib
import os
import re
import subprocess
from pathlib import Path

MIN_CHARS = 15          # shorter texts are dropped
MAX_CHARS = 600         # longer texts are cut at a word boundary
CAP_PER_LABEL = 400     # at most this many examples per label
MIN_TRAIN_PER_LABEL = 40
UNLABELLED_CAP = 20000  # at most this many unlabelled texts per domain (pre-training only)
SPLITS = ("train", "val", "test")

FORTUNE_DIR = Path("/usr/share/games/fortunes")
WORDNET_DIR = Path("/usr/share/wordnet")


class PrepareError(Exception):
    """A problem that stops the build; printed without a traceback."""


def sha256_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def run(cmd):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise PrepareError(f"{cmd[0]} not found; run scripts/setup")
    except subprocess.CalledProcessError as e:
        raise PrepareError(f"{' '.join(cmd)} failed: {e.stderr.strip()}")


def package_version(pkg):
    """Installed version of a Debian package; PrepareError if not installed."""
    proc = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", pkg],
                          capture_output=True, text=True)
    status, _, version = proc.stdout.partition("|")
    if proc.returncode != 0 or not status.startswith("ii") or not version:
        raise PrepareError(f"package {pkg} is not installed; run scripts/setup")
    return version


def package_licence(pkg):
    """What the package's copyright file says about the licence, in one line.

    The first non-empty `License:` field (DEP-5 files list the upstream files
    first); for a free-form `License:` heading, the first sentence under it;
    with no such field, the first sentence that mentions copyright.
    """
    path = Path("/usr/share/doc") / pkg / "copyright"
    if not path.is_file():
        return f"unknown (no {path})"
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("License:"):
            value = line[len("License:"):].strip()
            if value:
                return value
            following = _paragraphs("\n".join(lines[i + 1:]))[0]
            return f"\"{_sentences(following)[0]}\" (free-form; see {path})"
    for para in _paragraphs(text):
        for sentence in _sentences(para):
            if "copyright" in sentence.lower():
                return f"no License: field; it says \"{sentence}\" (see {path})"
    return f"no License: field (see {path})"


def _paragraphs(text):
    """Blank-line separated paragraphs, each on one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())] or [""]


def _sentences(paragraph):
    return re.split(r"(?<=[.:;])\s", paragraph)


def package_files(pkg):
    """Regular files (not symlinks) that dpkg lists for a package, sorted."""
    return sorted(Path(p) for p in run(["dpkg", "-L", pkg]).splitlines()
                  if p and os.path.isfile(p) and not os.path.islink(p))


# --------------------------------------------------------------------------
# Text cleaning shared by all domains

_OVERSTRIKE = re.compile(r"[^\x08]\x08")                    # "_\bX" → "X" (like col -b)
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x03\d{0,2}(?:,\d{1,2})?")  # ANSI, IRC colours
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# UTF-8 that was decoded as Latin-1 (mojibake): "Ã©" for "é", "Â«" for "«",
# "â\x80\x99" for "’"; sometimes twice over. Two-byte repairs are limited to
# U+0080..U+00FF and three-byte ones must contain a C1 control character,
# because wider patterns also match deliberate line noise (a "NO CARRIER" joke
# in fortunes-es).
_MOJIBAKE = re.compile(r"[\xc2\xc3][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


def repair_mojibake(text):
    """Undo (possibly repeated) double-encoded UTF-8; returns (text, repairs)."""
    repairs = 0

    def fix(match):
        nonlocal repairs
        seq = match.group(0)
        if len(seq) == 3 and not re.search(r"[\x80-\x9f]", seq):
            return seq
        try:
            fixed = seq.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return seq
        repairs += 1
        return fixed

    for _ in range(3):
        fixed = _MOJIBAKE.sub(fix, text)
        if fixed == text:
            break
        text = fixed
    return text, repairs


def strip_control(text):
    text = _ESCAPES.sub("", text)
    while True:
        stripped = _OVERSTRIKE.sub("", text)
        if stripped == text:
            break
        text = stripped
    return _CONTROL.sub(" ", text)


def normalise(text):
    """Single spaces, stripped, cut to MAX_CHARS at a word boundary."""
    text = " ".join(text.split())
    if len(text) > MAX_CHARS:
        cut = text[:MAX_CHARS + 1].rfind(" ")
        text = text[:cut if cut > 0 else MAX_CHARS].rstrip()
    return text


def new_notes():
    """The encoding repairs a domain reports in its SOURCE.md."""
    return {"legacy_decoded": [], "mojibake_repairs": []}
