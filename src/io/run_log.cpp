#include "moecollab/io/run_log.h"

#include <limits>

#include <torch/torch.h>

#include "log_file.h"
#include "moecollab/io/hdf5.h"
#include "moecollab/util/error.h"

namespace moecollab {

const std::vector<std::string> kLossColumns = {"local", "task", "entropy", "balance", "total", "z", "domain"};
const std::vector<std::string> kSecondsColumns = {"total",         "local_phase", "gate_phase",        "evaluation",
                                                  "communication", "compute",     "gate_communication"};
const std::vector<std::string> kDpColumns = {"epsilon", "delta", "clipped"};
const std::vector<std::string> kByteColumns = {"allgather", "alltoall", "allreduce", "allreduce_max", "broadcast"};

struct RunLog::Datasets {
  h5::Handle file;
  std::size_t domains = 0, experts = 0;
  h5::Appendable round, losses, kl_utilization, utilization, top1, specialization, moe_accuracy, moe_f1,
      expert_accuracy, expert_f1, seconds, bytes, drop_rate, dp;
  bool routing = false;
  h5::Appendable routing_round, routing_domain, routing_label, routing_predicted, routing_gate;
};

RunLog::RunLog(const std::string& path, const RunLogHeader& header) : d_(std::make_unique<Datasets>()) {
  auto& d = *d_;
  d.file = h5::create_log_file(
      path, {run_dir::kRunLog, header.git_revision, header.world_size, header.domains, header.config});
  d.domains = header.domains.size();
  d.experts = header.domains.size();
  h5::write_attribute(d.file, "seed", header.seed);
  h5::write_attribute(d.file, "encoder_fingerprint", header.encoder_fingerprint);
  h5::write_attribute(d.file, "vocabulary_fingerprint", header.vocabulary_fingerprint);
  h5::write_attribute(d.file, "contribution", header.contribution);
  if (!header.before.empty()) {
    auto before = h5::create_group(d.file, "before");
    std::vector<double> accuracy, f1;
    for (const auto& r : header.before) {
      accuracy.push_back(r.moe.accuracy);
      f1.push_back(r.moe.macro_f1);
    }
    h5::write_tensor(before, "moe_accuracy", torch::tensor(accuracy, torch::kFloat64));
    h5::write_tensor(before, "moe_macro_f1", torch::tensor(f1, torch::kFloat64));
  }
  auto labels = h5::create_group(d.file, "labels");
  for (std::size_t i = 0; i < header.labels.size(); ++i)
    h5::write_attribute(labels, header.domains[i], header.labels[i]);

  auto rounds = h5::create_group(d.file, "rounds");
  const hsize_t D = d.domains, E = d.experts;
  d.round = h5::create_round_dataset(rounds, "round", {}, torch::kInt64, "round number, 1-based");
  d.losses = h5::create_round_dataset(rounds, "losses", {7}, torch::kFloat64, "nats", &kLossColumns);
  d.drop_rate = h5::create_round_dataset(rounds, "drop_rate", {}, torch::kFloat64, "fraction");
  d.dp = h5::create_round_dataset(rounds, "dp", {3}, torch::kFloat64,
                                  "(epsilon, delta) spent so far, rank 0's clipped share; NaN: no DP", &kDpColumns);
  d.kl_utilization = h5::create_round_dataset(rounds, "kl_utilization", {}, torch::kFloat64, "nats");
  d.utilization = h5::create_round_dataset(rounds, "utilization", {D, E}, torch::kFloat64, "gate weight");
  d.top1 = h5::create_round_dataset(rounds, "top1_counts", {D, E}, torch::kInt64, "samples");
  d.specialization = h5::create_round_dataset(rounds, "specialization", {E}, torch::kFloat64, "nats");
  d.moe_accuracy = h5::create_round_dataset(rounds, "moe_accuracy", {D}, torch::kFloat64, "fraction");
  d.moe_f1 = h5::create_round_dataset(rounds, "moe_macro_f1", {D}, torch::kFloat64, "fraction");
  d.expert_accuracy = h5::create_round_dataset(rounds, "expert_accuracy", {D}, torch::kFloat64, "fraction");
  d.expert_f1 = h5::create_round_dataset(rounds, "expert_macro_f1", {D}, torch::kFloat64, "fraction");
  d.seconds = h5::create_round_dataset(rounds, "seconds", {7}, torch::kFloat64, "seconds", &kSecondsColumns);
  d.bytes = h5::create_round_dataset(rounds, "bytes_sent", {5}, torch::kInt64, "bytes", &kByteColumns);
  if (header.routing_samples > 0) {
    auto routing = h5::create_group(d.file, "routing");
    h5::write_attribute(routing, "samples_per_domain", static_cast<std::int64_t>(header.routing_samples));
    auto column = [&](const char* name, std::vector<hsize_t> shape, torch::ScalarType dtype, const char* meaning) {
      auto a = h5::Appendable::create(routing, name, shape, dtype, 256);
      h5::write_attribute(a.handle(), "meaning", std::string(meaning));
      return a;
    };
    d.routing = true;
    d.routing_round = column("round", {}, torch::kInt64, "round of the record");
    d.routing_domain = column("domain", {}, torch::kInt64, "domain index of the sample");
    d.routing_label = column("label", {}, torch::kInt64, "true label id in its domain's label space");
    d.routing_predicted = column("predicted", {}, torch::kInt64, "the mixture's predicted label id");
    d.routing_gate = column("gate", {E}, torch::kFloat64, "gate weights over the experts");
  }
  h5::start_swmr(d.file);
}

RunLog::~RunLog() = default;

void RunLog::append(const RoundReport& r) {
  auto& d = *d_;
  if (r.domains.size() != d.domains) throw Error("run log: a round report must hold every domain");
  auto per_domain = [&](auto field) {
    std::vector<double> v;
    for (const auto& dom : r.domains) v.push_back(field(dom));
    return torch::tensor(v, torch::kFloat64);
  };
  std::vector<double> util, top1;
  for (const auto& dom : r.domains) {
    util.insert(util.end(), dom.utilization.begin(), dom.utilization.end());
    top1.insert(top1.end(), dom.top1.begin(), dom.top1.end());
  }
  d.round.append(torch::tensor(static_cast<std::int64_t>(r.round)));
  const double none = std::numeric_limits<double>::quiet_NaN();  // a phase that did not run
  const auto gate = [&](double v) { return r.gate_phase_ran ? v : none; };
  d.losses.append(torch::tensor({r.local_phase_ran ? r.local_loss : none, gate(r.gate.task), gate(r.gate.entropy),
                                 gate(r.gate.balance), gate(r.gate.total), gate(r.gate.z), gate(r.gate.domain)},
                                torch::kFloat64));
  d.drop_rate.append(torch::tensor(r.drop_rate(), torch::kFloat64));
  d.dp.append(torch::tensor({r.dp_epsilon, r.dp_delta, r.dp_clipped}, torch::kFloat64));
  d.kl_utilization.append(torch::tensor(kl_to_uniform(r.utilization), torch::kFloat64));
  d.utilization.append(torch::tensor(util, torch::kFloat64));
  d.top1.append(torch::tensor(top1, torch::kFloat64).to(torch::kInt64));
  d.specialization.append(torch::tensor(specialization(r.domains), torch::kFloat64));
  d.moe_accuracy.append(per_domain([](const DomainReport& x) { return x.moe.accuracy; }));
  d.moe_f1.append(per_domain([](const DomainReport& x) { return x.moe.macro_f1; }));
  d.expert_accuracy.append(per_domain([](const DomainReport& x) { return x.expert.accuracy; }));
  d.expert_f1.append(per_domain([](const DomainReport& x) { return x.expert.macro_f1; }));
  d.seconds.append(torch::tensor({r.seconds, r.local_seconds, r.gate_seconds, r.eval_seconds, r.comm_seconds,
                                  r.seconds - r.comm_seconds, r.gate_comm_seconds},
                                 torch::kFloat64));
  std::vector<std::int64_t> bytes;
  for (const auto& op : kByteColumns) {
    auto it = r.bytes_by_op.find(op);
    bytes.push_back(it == r.bytes_by_op.end() ? 0 : static_cast<std::int64_t>(it->second));
  }
  d.bytes.append(torch::tensor(bytes, torch::kInt64));
  if (d.routing) {
    std::vector<std::int64_t> domain, label, predicted;
    std::vector<double> gate;
    for (std::size_t i = 0; i < r.domains.size(); ++i) {
      for (const auto& s : r.domains[i].routing) {
        domain.push_back(static_cast<std::int64_t>(i));
        label.push_back(s.label);
        predicted.push_back(s.predicted);
        gate.insert(gate.end(), s.gate.begin(), s.gate.end());
      }
    }
    const auto n = static_cast<std::int64_t>(domain.size());
    d.routing_round.append_rows(torch::full({n}, static_cast<std::int64_t>(r.round), torch::kInt64));
    d.routing_domain.append_rows(torch::tensor(domain, torch::kInt64));
    d.routing_label.append_rows(torch::tensor(label, torch::kInt64));
    d.routing_predicted.append_rows(torch::tensor(predicted, torch::kInt64));
    d.routing_gate.append_rows(torch::tensor(gate, torch::kFloat64).view({n, static_cast<std::int64_t>(d.experts)}));
  }
  h5::flush(d.file);
}

}  // namespace moecollab
