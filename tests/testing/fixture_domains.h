// Test helper: small labelled domains made of topic words, so a text is
// classified by what it talks about, and a vocabulary built from them. Shared
// by the single-process and the MPI tests so both train on the same data.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/vocab_builder.h"
#include "moecollab/train/train_options.h"

namespace moecollab::testing {

// `classes` topics of 4 words each, mixed with words every class shares.
inline Domain topic_domain(const std::string& name, std::size_t classes, std::size_t train_size, unsigned seed) {
  const std::vector<std::string> shared = {"the", "a", "of", "and", "today", "we", "saw", "very", "some", "with"};
  std::mt19937 rng(seed);
  Domain d;
  d.name = name;
  std::vector<std::vector<std::string>> topics(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    d.labels.names.push_back(name + "-" + std::to_string(c));
    for (int w = 0; w < 4; ++w) topics[c].push_back(name + "w" + std::to_string(c) + "x" + std::to_string(w));
  }
  auto make = [&](std::size_t n, std::vector<Example>& out) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t c = rng() % classes;
      std::string text;
      for (int w = 0; w < 8; ++w) {
        const auto& pool = rng() % 3 == 0 ? topics[c] : shared;
        text += pool[rng() % pool.size()] + " ";
      }
      text += topics[c][rng() % topics[c].size()];
      out.push_back({text, static_cast<std::int64_t>(c)});
    }
  };
  make(train_size, d.train);
  make(train_size / 3 + 5, d.val);
  make(train_size / 6 + 3, d.test);
  return d;
}

inline std::shared_ptr<const Tokenizer> fixture_tokenizer(const std::vector<Domain>& domains) {
  std::vector<std::string> texts;
  for (const auto& d : domains) {
    for (const auto& ex : d.train) texts.push_back(ex.text);
  }
  return std::make_shared<WordPieceTokenizer>(build_vocabulary(texts, {2000, 1, true}));
}

inline TrainOptions small_options() {
  TrainOptions o;
  o.encoder.hidden = 32;
  o.encoder.layers = 1;
  o.encoder.heads = 2;
  o.encoder.intermediate = 64;
  o.encoder.max_positions = 32;
  o.adapter = 8;
  o.max_length = 16;
  o.rounds = 4;
  o.local_steps = 40;
  o.gate_steps = 20;
  o.batch_size = 16;
  o.seed = 5;
  return o;
}

}  // namespace moecollab::testing
