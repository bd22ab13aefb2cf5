// What the training subcommands print: the run header, one line per round
// (format_round) and the final per-domain table; the same for both trainers.
#pragma once

#include <string>
#include <vector>

#include "moecollab/train/report.h"

namespace moecollab::cli {

void print_final(const std::vector<DomainReport>& reports, bool test_split);

}  // namespace moecollab::cli
