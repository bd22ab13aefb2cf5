#include "moecollab/model/expert.h"

#include "moecollab/util/error.h"

namespace moecollab {

std::int64_t expert_parameter_count(std::int64_t hidden, std::int64_t adapter, std::int64_t classes) {
  return 2 * hidden * adapter + adapter + hidden + classes * (hidden + 1);
}

ExpertImpl::ExpertImpl(const ExpertConfig& config) : config_(config) {
  if (config.hidden <= 0 || config.adapter <= 0 || config.classes <= 0) {
    throw Error("expert config: hidden, adapter and classes must be positive (got " + std::to_string(config.hidden) +
                ", " + std::to_string(config.adapter) + ", " + std::to_string(config.classes) + ")");
  }
  down_project = register_module("down_project", torch::nn::Linear(config.hidden, config.adapter));
  up_project = register_module("up_project", torch::nn::Linear(config.adapter, config.hidden));
  classifier = register_module("classifier", torch::nn::Linear(config.hidden, config.classes));
  if (config.lora.enabled()) {
    if (config.lora.layers < 1 || config.intermediate <= 0) {
      throw Error("expert config: LoRA needs at least one layer and the encoder's intermediate size");
    }
    auto list = register_module("lora", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < config.lora.layers; ++i) {
      lora_.push_back(LoraLayer(config.hidden, config.intermediate, config.lora.rank));
      list->push_back(lora_.back());
    }
  }
}

torch::Tensor ExpertImpl::adapt(const torch::Tensor& h) { return h + up_project(torch::relu(down_project(h))); }

torch::Tensor ExpertImpl::forward(const torch::Tensor& h) { return classifier(adapt(h)); }

}  // namespace moecollab
