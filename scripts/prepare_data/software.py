"""Domain `software`: Debian package descriptions (apt lists), label = Section."""

from pathlib import Path

from .common import new_notes, package_version

NAME = "software"
SOFTWARE_SECTIONS = ("admin", "games", "graphics", "net", "science", "sound", "text", "utils")
LABELS = len(SOFTWARE_SECTIONS)
PACKAGES = []   # the apt lists, not one package: build() takes `apt-cache dumpavail`


def apt_paragraphs(dump):
    """Parse `apt-cache dumpavail` output into a list of {field: value} dicts."""
    paragraphs = []
    for block in dump.split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields:
            paragraphs.append(fields)
    return paragraphs


def description_text(description):
    """Short + long description as one line (" ." continuation = paragraph break)."""
    short, *long_lines = description.split("\n")
    parts = [short.strip()]
    for line in long_lines:
        line = line.strip()
        if line != ".":
            parts.append(line)
    return " ".join(parts)


def apt_lists_date():
    dates = []
    for path in sorted(Path("/var/lib/apt/lists").glob("*Release")):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("Date:"):
                    suite = path.name.split("_dists_")[-1].rsplit("_", 1)[0].replace("_", "/")
                    dates.append(f"{suite}: {line[5:].strip()}")
                    break
    return dates


def build(dump):
    paragraphs = apt_paragraphs(dump)
    wanted = set(SOFTWARE_SECTIONS)
    with_long = sum("\n" in p.get("Description", "") for p in paragraphs)
    # One binary package per source package: siblings (foo, foo-data, foo-doc)
    # have near-identical descriptions and would leak across splits. Prefer the
    # binary named like its source, then the alphabetically first.
    by_source = {}
    for p in paragraphs:
        section = p.get("Section", "").split("/")[-1]   # drop contrib/, non-free/ …
        if not p.get("Description"):
            continue
        source = p.get("Source", p["Package"]).split()[0]
        rank = (section not in wanted, p["Package"] != source, p["Package"])
        if source not in by_source or rank < by_source[source][0]:
            by_source[source] = (rank, description_text(p["Description"]), section)
    candidates = [(text, section) for _, text, section in by_source.values() if section in wanted]
    extra = [text for _, text, section in by_source.values() if section not in wanted]
    info = {
        "unlabelled_extra": extra,
        "unlabelled_source": "descriptions of the labelled sections beyond the cap, and of "
                             "source packages in every other section (one binary package "
                             "per source package throughout)",
        "packages": {},
        "other_sources": [
            f"`apt-cache dumpavail` (apt {package_version('apt')}) — licence: package "
            "descriptions are Debian archive metadata written by each package's "
            "maintainers; each package's own copyright file applies"],
        "description": (
            "Debian package descriptions from `apt-cache dumpavail`; the label is the "
            "package's Section with any `contrib/`, `non-free/` or `non-free-firmware/` "
            "prefix removed. Text = short description + long description joined into one "
            "line (a ` .` continuation line is a paragraph break). Sections used: "
            + ", ".join(SOFTWARE_SECTIONS) + " (large sections whose descriptions do not "
            "trivially name the label, unlike libs, python, perl, …). Only one binary "
            "package per source package is kept (the one named like the source, else the "
            "alphabetically first), so sibling packages with near-identical descriptions "
            "cannot end up in different splits.\n\n"
            "This domain depends on the machine's apt lists, not on one package: "
            f"{len(paragraphs)} paragraphs were available, {with_long} of them with a long "
            "description (apt lists without Translation-en files, e.g. Docker images with "
            "`Acquire::Languages \"none\"`, carry only the short description). "
            f"{len(candidates)} source packages fell in the chosen sections. "
            "Apt lists:\n\n" + "\n".join(f"- {d}" for d in apt_lists_date())
        ),
        "notes": new_notes(),
    }
    return candidates, info
