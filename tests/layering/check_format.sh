#!/usr/bin/env bash
# Fails naming every C++ file of the repository (include/, src/, tests/, benchmarks/)
# that clang-format would change under the repository's .clang-format; exit 77
# (CTest: skipped) where clang-format is not installed (scripts/setup installs it).
# Usage: check_format.sh REPO
set -uo pipefail
repo=$1
command -v clang-format > /dev/null || { echo "skipped: clang-format is not installed"; exit 77; }
cd "$repo"
bad=()
while IFS= read -r f; do
  clang-format --dry-run -Werror "$f" > /dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.h' '*.cpp')
if [ "${#bad[@]}" -gt 0 ]; then
  printf 'not formatted (clang-format -i FILE): %s\n' "${bad[@]}"
  exit 1
fi
echo "$(git ls-files '*.h' '*.cpp' | wc -l) C++ files formatted as .clang-format says"
