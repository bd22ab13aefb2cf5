#include "moecollab/model/hf_bert.h"

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

#include "moecollab/model/json_integer.h"
#include "moecollab/model/safetensors.h"
#include "moecollab/util/error.h"
#include "moecollab/util/files.h"
#include "moecollab/util/strings.h"

namespace moecollab {
namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed JSON: " + e.what());
  }
}

template <typename T>
T field(const nlohmann::json& j, const char* name, const std::string& path) {
  if (!j.contains(name)) throw Error(path + ": missing field '" + std::string(name) + "'");
  // An integer field must hold a JSON integer: 768.5 would be truncated, and a number past the
  // integer range (1e300) has no defined conversion at all.
  if constexpr (std::is_integral_v<T>) {
    const auto& v = j.at(name);
    if (!is_int64(v)) {
      throw Error(path + ": field '" + std::string(name) + "' must be an integer, not " + v.dump());
    }
  }
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(path + ": field '" + std::string(name) + "' has the wrong type");
  }
}

// Our name for a Hugging Face tensor name, or "" for one to ignore.
std::string our_name(std::string name) {
  if (name.rfind("bert.", 0) == 0) name = name.substr(5);
  auto ends_with = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with("LayerNorm.gamma")) name = name.substr(0, name.size() - 5) + "weight";
  if (ends_with("LayerNorm.beta")) name = name.substr(0, name.size() - 4) + "bias";
  return name;
}

bool ignorable(const std::string& name) {
  return name.rfind("pooler.", 0) == 0 || name.rfind("cls.", 0) == 0 || name == "embeddings.position_ids";
}

}  // namespace

HfBertDirectory read_hf_bert_directory(const std::string& dir) {
  HfBertDirectory d;
  d.dir = dir;
  if (!fs::is_directory(dir)) throw Error(dir + ": not a directory (expected a Hugging Face model directory)");
  d.weights_path = (fs::path(dir) / "model.safetensors").string();
  if (!fs::exists(d.weights_path)) {
    if (fs::exists(fs::path(dir) / "pytorch_model.bin")) {
      throw Error(dir +
                  ": has pytorch_model.bin but no model.safetensors; a pickle can execute code, so it is not "
                  "loaded. Convert it once with Python: `from transformers import AutoModel; "
                  "AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)`");
    }
    throw Error(dir + ": no model.safetensors");
  }
  d.vocab_path = (fs::path(dir) / "vocab.txt").string();
  if (!fs::exists(d.vocab_path)) throw Error(dir + ": no vocab.txt");
  const auto config_path = (fs::path(dir) / "config.json").string();
  const auto j = read_json(config_path);
  auto& c = d.config;
  c.hidden = field<std::int64_t>(j, "hidden_size", config_path);
  c.layers = field<std::int64_t>(j, "num_hidden_layers", config_path);
  c.heads = field<std::int64_t>(j, "num_attention_heads", config_path);
  c.intermediate = field<std::int64_t>(j, "intermediate_size", config_path);
  c.vocab_size = field<std::int64_t>(j, "vocab_size", config_path);
  c.max_positions = field<std::int64_t>(j, "max_position_embeddings", config_path);
  c.type_vocab = j.value("type_vocab_size", std::int64_t{2});
  c.layer_norm_eps = j.value("layer_norm_eps", 1e-12);
  const auto act = j.value("hidden_act", std::string("gelu"));
  if (act != "gelu")
    throw Error(config_path + ": hidden_act '" + act + "' is not supported (only BERT's exact 'gelu')");
  if (j.value("position_embedding_type", std::string("absolute")) != "absolute") {
    throw Error(config_path + ": only absolute position embeddings are supported");
  }
  c.validate();
  // CLS pooling where a pooler says the [CLS] state was trained to summarise the
  // text (BERT's next-sentence head); mean pooling for masked-LM-only encoders
  // such as `moecollab pretrain` writes, whose [CLS] state no loss ever read.
  const auto names = safetensors_names(d.weights_path);
  d.has_pooler = std::any_of(names.begin(), names.end(),
                             [](const std::string& n) { return n.find("pooler.") != std::string::npos; });
  c.pooling = d.has_pooler ? "cls" : "mean";
  const auto tok = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(tok)) d.lower_case = read_json(tok.string()).value("do_lower_case", true);
  return d;
}

std::vector<std::string> load_hf_bert_weights(Encoder& encoder, const NamedTensors& weights,
                                              const std::string& origin) {
  std::map<std::string, torch::Tensor> by_ours;
  std::vector<std::string> ignored, unexpected, missing, misshapen;
  auto params = encoder->named_parameters();
  for (const auto& [name, t] : weights) {
    const auto ours = our_name(name);
    if (params.contains(ours))
      by_ours[ours] = t;
    else if (ignorable(ours))
      ignored.push_back(name);
    else
      unexpected.push_back(name);
  }
  for (const auto& p : params) {
    auto it = by_ours.find(p.key());
    if (it == by_ours.end())
      missing.push_back(p.key());
    else if (it->second.sizes() != p.value().sizes()) {
      misshapen.push_back(p.key() + " " + c10::str(it->second.sizes()) + " (expected " + c10::str(p.value().sizes()) +
                          ")");
    }
  }
  std::string problems;
  if (!missing.empty()) problems += " missing: " + join(missing) + ";";
  if (!unexpected.empty()) problems += " unexpected: " + join(unexpected) + ";";
  if (!misshapen.empty()) problems += " wrong shape: " + join(misshapen) + ";";
  if (!problems.empty())
    throw Error(origin + ": the weights do not fit a BERT encoder of config.json's sizes:" + problems);
  torch::NoGradGuard no_grad;
  for (auto& p : params) p.value().copy_(by_ours.at(p.key()).to(p.value().dtype()));
  return ignored;
}

void save_hf_bert(const std::string& dir, Encoder& encoder, const torch::nn::Module* mlm_head, const Vocabulary& vocab,
                  bool lower_case) {
  fs::create_directories(dir);
  const auto& c = encoder->config();
  nlohmann::json config = {{"architectures", {"BertForMaskedLM"}},
                           {"model_type", "bert"},
                           {"hidden_size", c.hidden},
                           {"num_hidden_layers", c.layers},
                           {"num_attention_heads", c.heads},
                           {"intermediate_size", c.intermediate},
                           {"vocab_size", c.vocab_size},
                           {"max_position_embeddings", c.max_positions},
                           {"type_vocab_size", c.type_vocab},
                           {"layer_norm_eps", c.layer_norm_eps},
                           {"hidden_act", "gelu"},
                           {"position_embedding_type", "absolute"},
                           {"pad_token_id", vocab.pad_id()}};
  // A head with a decoder matrix of its own is untied from the word embeddings.
  if (mlm_head && mlm_head->named_parameters().contains("decoder.weight")) config["tie_word_embeddings"] = false;
  auto write_text = [&](const std::string& name, const std::string& text) {
    write_file_atomically((fs::path(dir) / name).string(), [&](std::ostream& out) { out << text; });
  };
  write_text("config.json", config.dump(2) + "\n");
  write_text("tokenizer_config.json", nlohmann::json({{"do_lower_case", lower_case}}).dump() + "\n");
  vocab.save((fs::path(dir) / "vocab.txt").string());
  NamedTensors tensors;
  for (const auto& p : encoder->named_parameters()) tensors["bert." + p.key()] = p.value().detach();
  if (mlm_head) {
    for (const auto& p : mlm_head->named_parameters()) tensors["cls.predictions." + p.key()] = p.value().detach();
  }
  write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors, {{"format", "pt"}});
}

Encoder load_hf_bert(const HfBertDirectory& directory, std::vector<std::string>* ignored) {
  Encoder encoder(directory.config);
  auto names = load_hf_bert_weights(encoder, read_safetensors(directory.weights_path), directory.weights_path);
  encoder->set_frozen(true);
  encoder->eval();
  if (ignored) *ignored = std::move(names);
  return encoder;
}

}  // namespace moecollab
