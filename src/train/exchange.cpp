#include "moecollab/train/exchange.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "moecollab/model/expert.h"
#include "moecollab/train/fusion.h"
#include "moecollab/util/error.h"

namespace moecollab {

torch::Tensor exchange_features(Communicator& comm, const torch::Tensor& local, std::vector<std::int64_t>& counts) {
  return comm.allgather_rows(local.detach(), &counts);
}

std::vector<torch::Tensor> send_row_blocks(Communicator& comm, const torch::Tensor& rows,
                                           const std::vector<std::int64_t>& counts) {
  std::vector<torch::Tensor> send;
  std::int64_t offset = 0;
  for (auto n : counts) {
    send.push_back(rows.detach().narrow(0, offset, n));
    offset += n;
  }
  if (offset != rows.size(0)) throw Error("send_row_blocks: row counts do not add up to the tensor's rows");
  return comm.alltoall_rows(send);
}

std::vector<torch::Tensor> gather_expert_logits(Communicator& comm, const torch::Tensor& logits,
                                                const std::vector<std::int64_t>& counts) {
  return send_row_blocks(comm, logits, counts);
}

torch::Tensor return_feature_grads(Communicator& comm, const torch::Tensor& input_grad,
                                   const std::vector<std::int64_t>& input_counts,
                                   const std::vector<torch::Tensor>& routed, std::int64_t rows) {
  const auto back = send_row_blocks(comm, input_grad, input_counts);
  auto total = torch::zeros({rows, input_grad.size(1)}, input_grad.options());
  for (std::size_t q = 0; q < back.size(); ++q) {
    if (routed.empty())
      total.add_(back[q]);
    else
      total.index_add_(0, routed[q], back[q]);
  }
  return total;
}

torch::Tensor return_logit_grads(Communicator& comm, const std::vector<torch::Tensor>& grads) {
  return torch::cat(comm.alltoall_rows(grads));
}

torch::Tensor global_mean_gate(Communicator& comm, const torch::Tensor& local_probs, std::int64_t total_rows) {
  const auto local_sum = local_probs.sum(0);
  auto all_sum = local_sum.detach().clone();
  comm.allreduce_sum(all_sum);
  return (local_sum + (all_sum - local_sum.detach())) / static_cast<double>(total_rows);
}

StepLogits gather_step_logits(Communicator& comm, const torch::Tensor& own_logits) {
  std::vector<std::int64_t> counts;
  StepLogits step;
  step.all = comm.allgather_rows(own_logits.detach().contiguous(), &counts);
  for (int r = 0; r < comm.rank(); ++r) step.first += counts[static_cast<std::size_t>(r)];
  return step;
}

void allreduce_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters,
                         std::vector<double>& extras) {
  // The gradients and the extras packed into one reused buffer with memcpy and
  // unpacked the same way: a few microseconds of libtorch ops per tensor would
  // otherwise cost more than the all-reduce of a gate's ~2 KB itself
  // (benchmarks/allreduce_bench.cpp measures it against raw MPI_Allreduce).
  const auto dtype = parameters.empty() ? torch::kFloat32 : parameters.front().scalar_type();
  std::int64_t total = 0;
  for (const auto& p : parameters) {
    if (p.scalar_type() != dtype || p.device().type() != torch::kCPU) {
      throw Error("allreduce_gradients: gate parameters must be CPU tensors of one dtype");
    }
    total += p.numel();
  }
  // Grown, never shrunk: the row-sparse form's size changes every step.
  thread_local torch::Tensor storage;
  const auto size = total + static_cast<std::int64_t>(extras.size());
  if (!storage.defined() || storage.numel() < size || storage.scalar_type() != dtype) {
    storage = torch::empty({size}, torch::TensorOptions().dtype(dtype));
  }
  auto buffer = storage.narrow(0, 0, size);
  auto* bytes = static_cast<char*>(buffer.data_ptr());
  const std::size_t element = buffer.element_size();
  std::size_t offset = 0;
  for (const auto& p : parameters) {
    const auto n = static_cast<std::size_t>(p.numel()) * element;
    if (p.grad().defined())
      std::memcpy(bytes + offset, p.grad().contiguous().data_ptr(), n);
    else
      std::memset(bytes + offset, 0, n);
    offset += n;
  }
  for (std::size_t i = 0; i < extras.size(); ++i) {
    if (dtype == torch::kFloat64)
      buffer.data_ptr<double>()[total + static_cast<std::int64_t>(i)] = extras[i];
    else
      buffer.data_ptr<float>()[total + static_cast<std::int64_t>(i)] = static_cast<float>(extras[i]);
  }
  comm.allreduce_sum(buffer);
  offset = 0;
  for (const auto& p : parameters) {
    const auto n = static_cast<std::size_t>(p.numel()) * element;
    if (!p.grad().defined() || !p.grad().is_contiguous()) p.mutable_grad() = torch::empty_like(p);
    std::memcpy(p.mutable_grad().data_ptr(), bytes + offset, n);
    offset += n;
  }
  for (std::size_t i = 0; i < extras.size(); ++i) {
    const auto at = total + static_cast<std::int64_t>(i);
    extras[i] = dtype == torch::kFloat64 ? buffer.data_ptr<double>()[at] : buffer.data_ptr<float>()[at];
  }
}

void allreduce_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters, std::vector<double>& extras,
                         const std::vector<torch::Tensor>& row_sparse) {
  if (row_sparse.empty()) {
    allreduce_gradients(comm, parameters, extras);
    return;
  }
  std::vector<torch::Tensor> flags;
  for (const auto& p : row_sparse) {
    if (p.dim() != 2) throw Error("allreduce_gradients: a row-sparse parameter must be 2-D");
    flags.push_back(p.grad().defined() ? p.grad().ne(0).any(1).to(torch::kInt32)
                                       : torch::zeros({p.size(0)}, torch::kInt32));
  }
  auto used = torch::cat(flags);
  comm.allreduce_max(used);
  // Each sparse parameter's used rows stand in for it in the fused all-reduce.
  std::vector<torch::Tensor> packed, rows, fused;
  std::int64_t first = 0;
  for (const auto& p : row_sparse) {
    rows.push_back(used.narrow(0, first, p.size(0)).nonzero().reshape(-1));
    first += p.size(0);
    auto part = torch::empty({rows.back().numel(), p.size(1)}, p.options().requires_grad(false));
    part.mutable_grad() = p.grad().defined() ? p.grad().index_select(0, rows.back()) : torch::zeros_like(part);
    packed.push_back(part);
  }
  for (const auto& p : parameters) {
    const bool sparse = std::any_of(row_sparse.begin(), row_sparse.end(), [&](const auto& q) { return q.is_same(p); });
    if (!sparse) fused.push_back(p);
  }
  fused.insert(fused.end(), packed.begin(), packed.end());
  allreduce_gradients(comm, fused, extras);
  for (std::size_t i = 0; i < row_sparse.size(); ++i) {
    auto p = row_sparse[i];
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().index_copy_(0, rows[i], packed[i].grad());  // the other rows are zero on every rank
  }
}

ExchangeMode parse_exchange_mode(const std::string& text) {
  if (text == "features") return ExchangeMode::kFeatures;
  if (text == "experts") return ExchangeMode::kExperts;
  if (text == "auto") return ExchangeMode::kAuto;
  throw Error("--exchange must be 'features', 'experts' or 'auto', not '" + text + "'");
}

std::string describe(ExchangeMode mode) {
  switch (mode) {
    case ExchangeMode::kFeatures:
      return "features";
    case ExchangeMode::kExperts:
      return "experts";
    case ExchangeMode::kAuto:
      break;
  }
  return "auto";
}

std::uint64_t bytes_per_round(ExchangeMode mode, const ExchangeSizes& z) {
  const auto W = static_cast<std::int64_t>(z.class_counts.size()), others = W - 1;
  const std::int64_t f = 4, flag = 8;
  const auto c_max = z.class_counts.empty() ? 0 : *std::max_element(z.class_counts.begin(), z.class_counts.end());
  std::int64_t expert_params = 0;  // Σ_q P_q
  for (auto c : z.class_counts) expert_params += expert_parameter_count(z.hidden, z.adapter, c);
  const bool encoder = z.encoder_params > 0;
  // Both modes, per gate step: ḡ (E floats all-reduced) and the fused all-reduce of the gate's
  // (and a trained encoder's) gradients with the two loss shares and one finiteness flag per rank.
  std::int64_t fused = z.hidden * W + W + z.encoder_params + 2 + W;
  std::int64_t per_step = W * W * f, per_round = 0;
  if (mode == ExchangeMode::kFeatures) {
    const std::int64_t rows = W * z.batch;
    per_step += rows * z.hidden * f * others + rows * others * c_max * f;  // features out, logits back
    if (z.joint || encoder) per_step += rows * others * c_max * f;         // logit gradients to their experts
    if (encoder) per_step += rows * z.hidden * f * others;                 // feature gradients home
    per_round += z.val_rows * others * (z.hidden + c_max) * f + W * flag;  // evaluation's exchange
  } else {
    if (z.joint) fused += expert_params;       // every expert's gradients
    per_step += W * others * flag + W * flag;  // every rank's row count; the replicas' staleness flag
    // Once per round: every expert (with --joint also its Adam moments and step counts) to every
    // other rank, packed (pack_tensors: about 60 bytes of name and shape per tensor, 6 per expert).
    const std::int64_t tensors = 6 * (z.joint ? 4 : 1), packing = W * (8 + tensors * 60 + (z.joint ? 6 * 8 : 0));
    per_round += others * (expert_params * f * (z.joint ? 3 : 1) + packing) + 2 * W * flag;
  }
  per_step += W * fused * f;
  return static_cast<std::uint64_t>(z.gate_steps * per_step + per_round);
}

ExchangeMode choose_exchange(const ExchangeSizes& sizes, std::string* why) {
  const auto features = bytes_per_round(ExchangeMode::kFeatures, sizes);
  const auto experts = bytes_per_round(ExchangeMode::kExperts, sizes);
  const auto mode = experts < features ? ExchangeMode::kExperts : ExchangeMode::kFeatures;
  if (why) {
    const auto mb = [](std::uint64_t b) {
      char text[32];
      std::snprintf(text, sizeof text, "%.2f MB", static_cast<double>(b) / 1e6);
      return std::string(text);
    };
    *why = describe(mode) + ": " + mb(std::min(features, experts)) + " per round against " +
           mb(std::max(features, experts)) + " with " +
           describe(mode == ExchangeMode::kExperts ? ExchangeMode::kFeatures : ExchangeMode::kExperts) +
           " (by the formula)";
  }
  return mode;
}

}  // namespace moecollab
