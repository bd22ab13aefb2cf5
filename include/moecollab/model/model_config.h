// What a trained mixture is, as a typed description: the encoder's resolved
// configuration, which of it trains, the tokenizer's lower-casing, the experts'
// adapter and LoRA sizes, the routing policy, the sequence length, and the
// domains with their label counts. Every checkpoint and expert package stores it
// (as HDF5 attributes, io/model_attributes.h), and `predict` and `integrate`
// build the model from it. Its fields are listed once, in visit_fields: storing,
// reading, comparing and hashing all walk that list, so a new field is one line
// there (and, where the command line sets it, one in train/mixture.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moecollab/model/encoder.h"
#include "moecollab/model/lora.h"
#include "moecollab/model/router.h"

namespace moecollab {

// Which part of the shared encoder trains (--encoder-train). Frozen by default;
// otherwise the top `top_layers` transformer layers (and with `all`, every
// layer and the embeddings) train with the experts in the local phase and
// through the mixture loss in the gate phase, their gradients summed over ranks.
struct EncoderTraining {
  std::int64_t top_layers = 0;  // "top:N" -> N; "all" -> every layer (resolved once the encoder is built)
  bool all = false;             // "all": every layer and the embeddings
  bool any() const { return top_layers > 0 || all; }
};

// "none", "all" or "top:N" (N >= 1); Error naming --encoder-train otherwise.
EncoderTraining parse_encoder_training(const std::string& spec);
// The inverse, for messages and the run log.
std::string describe(const EncoderTraining& training);

struct ModelConfig {
  EncoderConfig encoder;  // as built: sizes and pooling resolved, vocab_size the vocabulary's
  EncoderTraining encoder_training;
  bool lower_case = true;        // the tokenizer's
  std::int64_t max_length = 64;  // tokens per text, [CLS] and [SEP] included
  std::int64_t adapter = 64;     // k
  LoraConfig expert_lora;
  RoutingConfig routing;
  std::vector<std::string> domains;        // expert i's domain
  std::vector<std::int64_t> label_counts;  // expert i's label count
};

// Calls visit(name, field) for every field of `config` (a ModelConfig, const
// or not), in a fixed order. Field types: std::int64_t, std::uint64_t, double,
// bool, std::string, std::vector<std::string>, std::vector<std::int64_t>.
template <typename Config, typename Visit>
void visit_fields(Config& config, Visit&& visit) {
  auto& e = config.encoder;
  visit("encoder.vocab_size", e.vocab_size);
  visit("encoder.hidden", e.hidden);
  visit("encoder.layers", e.layers);
  visit("encoder.heads", e.heads);
  visit("encoder.intermediate", e.intermediate);
  visit("encoder.max_positions", e.max_positions);
  visit("encoder.type_vocab", e.type_vocab);
  visit("encoder.layer_norm_eps", e.layer_norm_eps);
  visit("encoder.init_std", e.init_std);
  visit("encoder.seed", e.seed);
  visit("encoder.pooling", e.pooling);
  visit("encoder_training.top_layers", config.encoder_training.top_layers);
  visit("encoder_training.all", config.encoder_training.all);
  visit("lower_case", config.lower_case);
  visit("max_length", config.max_length);
  visit("adapter", config.adapter);
  visit("expert_lora.rank", config.expert_lora.rank);
  visit("expert_lora.layers", config.expert_lora.layers);
  visit_routing_fields(config.routing, visit);
  visit("domains", config.domains);
  visit("label_counts", config.label_counts);
}

// Every field as "name = value" text, in visit_fields order.
std::vector<std::pair<std::string, std::string>> field_texts(const ModelConfig& config);

// One line per field that differs between `a` and `b` ("adapter: 64 here, 32 there"),
// among the fields whose name starts with one of `prefixes` (empty: all).
std::vector<std::string> differences(const ModelConfig& a, const ModelConfig& b, const std::string& a_name,
                                     const std::string& b_name, const std::vector<std::string>& prefixes = {});

}  // namespace moecollab
