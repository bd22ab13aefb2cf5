// The arrows of a collaborative step that cross ranks, one function each:
//   features -> exchange_features -> every expert's logits -> gather_expert_logits
//   -> mixture -> loss (global_mean_gate) -> backward -> allreduce_gradients
//   (and, with --joint or a trained encoder, return_logit_grads back to each
//   expert's owner; with a trained encoder, return_feature_grads back to each
//   row's owner, whose encoder backpropagates them).
// Only features, logits, their gradients and gate (and encoder) gradients cross ranks.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "moecollab/comm/communicator.h"
#include "moecollab/train/train_options.h"

namespace moecollab {

// Every rank's b_r×d features, concatenated in rank order (B×d); counts[r] = b_r.
torch::Tensor exchange_features(Communicator& comm, const torch::Tensor& local, std::vector<std::int64_t>& counts);

// This rank's expert's logits for all B rows (rank order, as `counts`) go back
// to the rows' owners. Returns, for this rank's rows, one b×c_max tensor per expert.
std::vector<torch::Tensor> gather_expert_logits(Communicator& comm, const torch::Tensor& logits,
                                                const std::vector<std::int64_t>& counts);

// Rows of `rows` split into consecutive blocks of counts[r] rows, block r sent
// to rank r; returns the block every rank sent here, in rank order.
std::vector<torch::Tensor> send_row_blocks(Communicator& comm, const torch::Tensor& rows,
                                           const std::vector<std::int64_t>& counts);

// The reverse of the features' trip to the experts, for a trained encoder:
// `input_grad` is the gradient w.r.t. the rows this rank's expert scored
// (input_counts[r] rows from rank r, in rank order); each block goes back to its
// owner. Returns the gradient w.r.t. this rank's `rows`×d features summed over
// the experts that scored them: every expert (dense, `routed` empty) or, with
// top-k, expert q at the rows routed[q].
torch::Tensor return_feature_grads(Communicator& comm, const torch::Tensor& input_grad,
                                   const std::vector<std::int64_t>& input_counts,
                                   const std::vector<torch::Tensor>& routed, std::int64_t rows);

// The reverse of gather_expert_logits: `grads[q]` (this rank's rows × c_max,
// gradient w.r.t. expert q's logits) goes to rank q. Returns the B×c_max
// gradient w.r.t. this rank's expert's logits, rows in rank order.
torch::Tensor return_logit_grads(Communicator& comm, const std::vector<torch::Tensor>& grads);

// --exchange: "features", "experts" or "auto"; Error naming the option otherwise. And the inverse.
ExchangeMode parse_exchange_mode(const std::string& text);
std::string describe(ExchangeMode mode);

// What the bytes of a federated round depend on (docs/federated.md, "Bytes per round").
// The gate's size (d·E + E), the largest label count and the experts' parameters
// (model/expert.h's expert_parameter_count) follow from these.
struct ExchangeSizes {
  std::int64_t batch = 32;                 // rows per rank per gate step
  std::int64_t hidden = 128;               // d
  std::int64_t adapter = 64;               // k
  std::vector<std::int64_t> class_counts;  // expert q's labels; W = E = its size
  std::int64_t gate_steps = 50;            // per round
  std::int64_t val_rows = 0;               // all ranks' validation rows (evaluated once per round)
  std::int64_t encoder_params = 0;         // trained encoder parameters (0 while frozen)
  bool joint = false;                      // --joint: experts train in the gate phase (with their Adam state)
};

// Bytes all ranks send per round in the gate phase and evaluation with `mode` (kFeatures or
// kExperts; dense routing), counted as CommStats counts them (float32 payloads; an all-gather
// once per other rank, an all-reduce once per rank). The local phase and the end-of-round
// metric gathers are the same in both modes and left out.
std::uint64_t bytes_per_round(ExchangeMode mode, const ExchangeSizes& sizes);
// "experts: 1.2 MB per round against 11.0 MB with features" (kAuto picks the smaller).
ExchangeMode choose_exchange(const ExchangeSizes& sizes, std::string* why = nullptr);

// ḡ over all ranks' rows, differentiable w.r.t. this rank's gate weights only:
// (Σ_local g + stop_grad(Σ_other ranks g)) / total_rows. Summed over ranks, the
// gradients of a loss of ḡ are exactly the gradient of the global term.
torch::Tensor global_mean_gate(Communicator& comm, const torch::Tensor& local_probs, std::int64_t total_rows);

// Every rank's (detached) gate logits of a step, in rank order, and where this rank's
// rows start: what a capacity counts over (model/router.h). One all-gather of b×E.
StepLogits gather_step_logits(Communicator& comm, const torch::Tensor& own_logits);

// Sums the parameters' gradients over ranks in ONE all-reduce (tensor fusion;
// the gate's in a gate step, the encoder's and MLM head's in FedSGD pre-training);
// `extras` (small scalars, e.g. loss shares) ride along in the same buffer and
// come back summed. Every replica then holds identical gradients.
void allreduce_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters, std::vector<double>& extras);
// The same, where each parameter of `row_sparse` (2-D, also in `parameters`: a
// word-embedding matrix, whose gradient is zero outside the rows of the step's
// tokens) sends only the rows whose gradient is non-zero on some rank, found by
// one small all-reduce (max) of every row's flag first: the same sums in a
// fraction of the bytes (the demo's fine-tuning: 5.75 MB a step, 4.1 MB of it
// the 8000-word embedding). Every rank passes the same row_sparse. Not for
// noised gradients or a transport that hides contributions: which rows a rank
// left zero tells which tokens its texts hold (the caller passes none then).
void allreduce_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters, std::vector<double>& extras,
                         const std::vector<torch::Tensor>& row_sparse);

}  // namespace moecollab
