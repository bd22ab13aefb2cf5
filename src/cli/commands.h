// The subcommands of the `moecollab` executable, one file each; main.cpp only
// dispatches. Each takes argv after the subcommand name and returns the exit code.
#pragma once

namespace moecollab::cli {

int build_vocab_main(int argc, char** argv);
int train_local_main(int argc, char** argv);
int train_main(int argc, char** argv);
int report_main(int argc, char** argv);
int predict_main(int argc, char** argv);
int encode_main(int argc, char** argv);
int tokenize_main(int argc, char** argv);
int pretrain_main(int argc, char** argv);
int sweep_point_main(int argc, char** argv);
int sweep_summary_main(int argc, char** argv);
int expert_main(int argc, char** argv);
int registry_main(int argc, char** argv);
int integrate_main(int argc, char** argv);
int baseline_main(int argc, char** argv);
int exchange_bytes_main(int argc, char** argv);

}  // namespace moecollab::cli
