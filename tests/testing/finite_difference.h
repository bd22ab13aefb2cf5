// Test helper: checks autograd gradients of a scalar function of some float64
// tensors against central finite differences, element by element.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace moecollab::testing {

// Makes float64 libtorch's default dtype for its lifetime (modules built in
// it have float64 parameters), then restores the previous default.
struct Float64Default {
  caffe2::TypeMeta previous = torch::get_default_dtype();
  Float64Default() { torch::set_default_dtype(caffe2::TypeMeta::Make<double>()); }
  ~Float64Default() { torch::set_default_dtype(previous); }
};

// `f` must recompute from the current values of `inputs` (leaf tensors with
// requires_grad). Each element is nudged by ±eps in place.
inline void expect_gradients_match(const std::function<torch::Tensor()>& f, std::vector<torch::Tensor> inputs,
                                   double tolerance = 1e-7, double eps = 1e-6) {
  const auto grads = torch::autograd::grad({f()}, inputs, {}, false, false, true);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    auto flat = inputs[k].detach().view(-1);
    const auto analytic = grads[k].defined() ? grads[k].reshape(-1) : torch::zeros_like(flat);
    for (std::int64_t i = 0; i < flat.numel(); ++i) {
      const double orig = flat[i].item<double>();
      flat[i] = orig + eps;
      const double up = f().item<double>();
      flat[i] = orig - eps;
      const double down = f().item<double>();
      flat[i] = orig;
      EXPECT_NEAR(analytic[i].item<double>(), (up - down) / (2 * eps), tolerance) << "input " << k << ", element " << i;
    }
  }
}

}  // namespace moecollab::testing
