"""The pieces of scripts/prepare-data: one module per source of text, and the shared rest.

common    constants, errors, Debian package queries, text cleaning
fortunes  reading fortune files (the quotes and language domains)
quotes, language, lexicon, software   one domain each: NAME, LABELS, build() -> (candidates, info)
dedup     duplicate keys, word 3-gram near-duplicates (prefix-filtered index), groups
output    selection, splitting, unlabelled filtering, writing and checking a domain
"""
