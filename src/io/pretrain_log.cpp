#include "moecollab/io/pretrain_log.h"

#include "log_file.h"

namespace moecollab {

struct PretrainLog::Datasets {
  h5::Handle file;
  h5::Appendable round, loss, accuracy, masked, lr, seconds, bytes, phases, flops;
};

PretrainLog::PretrainLog(const std::string& path, const PretrainLogHeader& header) : d_(std::make_unique<Datasets>()) {
  auto& d = *d_;
  d.file = h5::create_log_file(
      path, {run_dir::kPretrainLog, header.git_revision, header.world_size, header.domains, header.config});
  h5::write_attribute(d.file, "vocabulary_fingerprint", header.vocabulary_fingerprint);
  h5::write_attribute(d.file, "method", std::string(header.fedavg_every > 0 ? "fedavg" : "fedsgd"));
  h5::write_attribute(d.file, "fedavg_every", header.fedavg_every);
  auto rounds = h5::create_group(d.file, "rounds");
  d.round = h5::create_round_dataset(rounds, "round", {}, torch::kInt64, "round number, 1-based");
  d.loss = h5::create_round_dataset(rounds, "mlm_loss", {}, torch::kFloat64, "nats");
  d.accuracy = h5::create_round_dataset(rounds, "mlm_accuracy", {}, torch::kFloat64, "fraction");
  d.masked = h5::create_round_dataset(rounds, "masked_tokens", {}, torch::kInt64, "tokens");
  d.lr = h5::create_round_dataset(rounds, "learning_rate", {}, torch::kFloat64, "learning rate");
  d.seconds = h5::create_round_dataset(rounds, "seconds", {}, torch::kFloat64, "seconds");
  d.bytes = h5::create_round_dataset(rounds, "bytes_sent", {}, torch::kInt64, "bytes");
  static const std::vector<std::string> kPhaseColumns = {"data", "forward", "backward", "allreduce", "optimizer"};
  d.phases = h5::create_round_dataset(rounds, "phase_seconds", {5}, torch::kFloat64, "seconds", &kPhaseColumns);
  d.flops = h5::create_round_dataset(rounds, "matmul_flops", {}, torch::kFloat64, "FLOP");
  h5::start_swmr(d.file);
}

PretrainLog::~PretrainLog() = default;

void PretrainLog::append(const PretrainReport& r) {
  auto& d = *d_;
  d.round.append(torch::tensor(static_cast<std::int64_t>(r.round)));
  d.loss.append(torch::tensor(r.loss, torch::kFloat64));
  d.accuracy.append(torch::tensor(r.accuracy, torch::kFloat64));
  d.masked.append(torch::tensor(static_cast<std::int64_t>(r.masked_tokens)));
  d.lr.append(torch::tensor(r.learning_rate, torch::kFloat64));
  d.seconds.append(torch::tensor(r.seconds, torch::kFloat64));
  d.bytes.append(torch::tensor(static_cast<std::int64_t>(r.bytes_sent)));
  const auto& p = r.phases;
  d.phases.append(torch::tensor({p.data, p.forward, p.backward, p.allreduce, p.optimizer}, torch::kFloat64));
  d.flops.append(torch::tensor(r.matmul_flops, torch::kFloat64));
  h5::flush(d.file);
}

}  // namespace moecollab
