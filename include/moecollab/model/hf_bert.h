// Loading a Hugging Face BERT-family model directory into our Encoder:
// config.json (sizes, layer-norm eps, activation), vocab.txt,
// tokenizer_config.json (do_lower_case, optional) and model.safetensors.
// Weights are matched by Hugging Face parameter names ("bert." prefixes
// stripped, old "gamma"/"beta" names accepted); pooler and MLM-head tensors are
// ignored, anything else unexpected, missing or misshapen is an Error listing
// the names. pytorch_model.bin (a pickle) is refused: it could execute code.
#pragma once

#include <string>
#include <vector>

#include "moecollab/data/tokenizer.h"
#include "moecollab/model/encoder.h"
#include "moecollab/model/named_tensors.h"

namespace moecollab {

struct HfBertDirectory {
  std::string dir;
  EncoderConfig config;      // pooling "cls" with a pooler, else "mean"
  bool has_pooler = false;   // model.safetensors holds pooler.* (a [CLS] trained to summarise)
  bool lower_case = true;    // tokenizer_config.json do_lower_case (default true)
  std::string vocab_path;    // dir/vocab.txt
  std::string weights_path;  // dir/model.safetensors
};

// Reads config.json and tokenizer_config.json; checks the files exist.
HfBertDirectory read_hf_bert_directory(const std::string& dir);

// Copies `weights` into `encoder`. Returns the names it ignored (pooler, MLM head).
std::vector<std::string> load_hf_bert_weights(Encoder& encoder, const NamedTensors& weights, const std::string& origin);

// Writes `encoder` (and, when given, its masked-LM head under "cls.predictions.")
// as a Hugging Face BERT directory that load_hf_bert (and Hugging Face's
// BertForMaskedLM) reads: config.json, vocab.txt, tokenizer_config.json,
// model.safetensors (encoder tensors prefixed "bert."; an untied head adds
// "tie_word_embeddings": false to config.json).
void save_hf_bert(const std::string& dir, Encoder& encoder, const torch::nn::Module* mlm_head, const Vocabulary& vocab,
                  bool lower_case);

// The encoder of a directory, weights loaded (frozen). `ignored` receives the
// ignored tensor names when given.
Encoder load_hf_bert(const HfBertDirectory& directory, std::vector<std::string>* ignored = nullptr);

}  // namespace moecollab
