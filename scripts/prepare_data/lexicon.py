"""Domain `lexicon`: WordNet synsets, label = lexicographer file."""

from .common import WORDNET_DIR, PrepareError, new_notes, package_version

NAME = "lexicon"

# The standard WordNet lexicographer files (lexnames), by number.
WORDNET_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact "
    "noun.attribute noun.body noun.cognition noun.communication noun.event "
    "noun.feeling noun.food noun.group noun.location noun.motive noun.object "
    "noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time "
    "verb.body verb.change verb.cognition verb.communication verb.competition "
    "verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather "
    "adj.ppl"
).split()
LEXICON_LEXFILES = (
    "noun.animal", "noun.artifact", "noun.body", "noun.food", "noun.person",
    "noun.plant", "verb.change", "verb.communication", "verb.contact", "verb.motion",
)
LABELS = len(LEXICON_LEXFILES)
PACKAGES = ["wordnet-base"]


def wordnet_synsets(path):
    """Yield (lexfile number, words, gloss) for every synset line of a data.* file."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue                      # licence header
            head, sep, gloss = line.partition(" | ")
            if not sep:
                continue
            fields = head.split()
            lexfile = int(fields[1])
            n_words = int(fields[3], 16)
            words = [fields[4 + 2 * i].replace("_", " ") for i in range(n_words)]
            yield lexfile, words, gloss.strip()


def build():
    pkg = "wordnet-base"
    version = package_version(pkg)
    wanted = set(LEXICON_LEXFILES)
    lexnames = list(WORDNET_LEXNAMES)
    lexnames_file = WORDNET_DIR / "lexnames"
    if lexnames_file.is_file():               # prefer the package's own list
        for line in lexnames_file.read_text(encoding="utf-8").splitlines():
            num, name = line.split()[:2]
            if int(num) < len(lexnames):
                lexnames[int(num)] = name
    candidates, extra = [], []
    for pos in sorted({name.split(".")[0] for name in wanted}):
        path = WORDNET_DIR / f"data.{pos}"
        if not path.is_file():
            raise PrepareError(f"{path} is missing; run scripts/setup")
        for lexfile, words, gloss in wordnet_synsets(path):
            label = lexnames[lexfile]
            text = ", ".join(words) + ": " + gloss
            if label in wanted:
                candidates.append((text, label))
            else:
                extra.append(text)
    info = {
        "unlabelled_extra": extra,
        "unlabelled_source": "synsets of the labelled files beyond the cap, and of the other "
                             "noun and verb lexicographer files",
        "packages": {pkg: version},
        "description": (
            f"WordNet 3.0 synsets from {WORDNET_DIR}/data.noun and data.verb (package "
            "`wordnet-base`). The label is the synset's lexicographer file (2nd field of "
            "the data line, mapped through the standard WordNet lexnames list). "
            "The text is the synset's words (underscores turned into spaces, joined by "
            "`, `) followed by `: ` and the gloss (definition plus any quoted examples). "
            "The words are kept because a gloss alone is often a terse fragment that "
            "fits several files; with them the task is a fair \"which semantic field does "
            "this dictionary entry belong to\" problem, still hard because nouns and "
            "verbs each spread across several files. Lexicographer files used (ten large "
            "ones, six noun and four verb): " + ", ".join(LEXICON_LEXFILES) + "."
        ),
        "notes": new_notes(),
    }
    return candidates, info
