#include "moecollab/train/trainer_state.h"

#include <cstring>

#include "moecollab/util/error.h"

namespace moecollab {
namespace {

std::string state_key(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

const torch::Tensor& require(const NamedTensors& tensors, const std::string& name, const std::string& what,
                             torch::IntArrayRef shape) {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error(what + ": missing tensor '" + name + "'");
  if (it->second.sizes() != shape) {
    throw Error(what + ": tensor '" + name + "' has shape " + c10::str(it->second.sizes()) + ", expected " +
                c10::str(shape));
  }
  return it->second;
}

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T take(const std::string& in, std::size_t& at) {
  if (at + sizeof(T) > in.size()) throw Error("unpack_tensors: truncated buffer");
  T value;
  std::memcpy(&value, in.data() + at, sizeof value);
  at += sizeof value;
  return value;
}

}  // namespace

NamedTensors export_module(const torch::nn::Module& module, torch::optim::Adam& optimizer) {
  NamedTensors out;
  auto& state = optimizer.state();
  for (const auto& p : module.named_parameters()) {
    const auto& name = p.key();
    out["parameters/" + name] = p.value().detach().clone();
    auto it = state.find(state_key(p.value()));
    if (it == state.end()) continue;  // no step taken yet
    const auto& adam = static_cast<const torch::optim::AdamParamState&>(*it->second);
    out["adam/exp_avg/" + name] = adam.exp_avg().detach().clone();
    out["adam/exp_avg_sq/" + name] = adam.exp_avg_sq().detach().clone();
    out["adam/step/" + name] = torch::tensor(adam.step(), torch::kInt64);
  }
  return out;
}

void load_parameters(torch::nn::Module& module, const NamedTensors& tensors, const std::string& what) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters()) {
    p.value().copy_(require(tensors, "parameters/" + p.key(), what, p.value().sizes()));
  }
}

void import_module(torch::nn::Module& module, torch::optim::Adam& optimizer, const NamedTensors& tensors,
                   const std::string& what) {
  load_parameters(module, tensors, what);
  auto& state = optimizer.state();
  for (auto& p : module.named_parameters()) {
    const auto& name = p.key();
    state.erase(state_key(p.value()));
    if (tensors.count("adam/step/" + name) == 0) continue;
    auto adam = std::make_unique<torch::optim::AdamParamState>();
    adam->step(require(tensors, "adam/step/" + name, what, {}).item<std::int64_t>());
    adam->exp_avg(require(tensors, "adam/exp_avg/" + name, what, p.value().sizes()).clone());
    adam->exp_avg_sq(require(tensors, "adam/exp_avg_sq/" + name, what, p.value().sizes()).clone());
    state[state_key(p.value())] = std::move(adam);
  }
}

std::string pack_tensors(const NamedTensors& tensors) {
  std::string out;
  put<std::uint64_t>(out, tensors.size());
  for (const auto& [name, t_in] : tensors) {
    const auto t = t_in.contiguous();
    put<std::uint64_t>(out, name.size());
    out += name;
    put<std::int32_t>(out, static_cast<std::int32_t>(t.scalar_type()));
    put<std::uint64_t>(out, static_cast<std::uint64_t>(t.dim()));
    for (auto s : t.sizes()) put<std::int64_t>(out, s);
    out.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
  }
  return out;
}

NamedTensors unpack_tensors(const std::string& in) {
  NamedTensors out;
  std::size_t at = 0;
  const auto count = take<std::uint64_t>(in, at);
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto len = take<std::uint64_t>(in, at);
    if (at + len > in.size()) throw Error("unpack_tensors: truncated buffer");
    std::string name = in.substr(at, len);
    at += len;
    const auto dtype = static_cast<torch::ScalarType>(take<std::int32_t>(in, at));
    std::vector<std::int64_t> shape(take<std::uint64_t>(in, at));
    for (auto& s : shape) s = take<std::int64_t>(in, at);
    auto t = torch::empty(shape, dtype);
    if (at + t.nbytes() > in.size()) throw Error("unpack_tensors: truncated buffer");
    std::memcpy(t.data_ptr(), in.data() + at, t.nbytes());
    at += t.nbytes();
    out.emplace(std::move(name), std::move(t));
  }
  return out;
}

}  // namespace moecollab
