#include "moecollab/model/gate.h"

#include "moecollab/util/error.h"

namespace moecollab {

GateImpl::GateImpl(std::int64_t hidden, std::int64_t experts) : experts_(experts) {
  if (hidden <= 0 || experts <= 0) throw Error("gate: hidden size and expert count must be positive");
  gate = register_module("gate", torch::nn::Linear(hidden, experts));
}

torch::Tensor GateImpl::forward(const torch::Tensor& h) { return gate(h); }

}  // namespace moecollab
