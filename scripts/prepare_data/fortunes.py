"""Fortune files (packages fortunes, fortunes-*): decoding and entries."""

from .common import repair_mojibake, strip_control



def decode_fortune_file(path, legacy_encoding, notes):
    """Decode a fortune file: UTF-8 if valid, else the legacy encoding."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode(legacy_encoding)
        notes["legacy_decoded"].append(f"{path} ({legacy_encoding})")
    text, repairs = repair_mojibake(text)
    if repairs:
        notes["mojibake_repairs"].append(f"{path} ({repairs})")
    return text


def fortune_entries(text):
    """Split a fortune file into entries (separated by lines holding only %)."""
    entries, current = [], []
    for line in text.splitlines():
        if line.strip() == "%":
            entries.append("\n".join(current))
            current = []
        else:
            current.append(line)
    entries.append("\n".join(current))
    return [strip_control(e) for e in entries if e.strip()]
