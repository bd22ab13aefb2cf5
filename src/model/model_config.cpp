#include "moecollab/model/model_config.h"

#include <sstream>
#include <type_traits>

#include "moecollab/util/error.h"
#include "moecollab/util/strings.h"

namespace moecollab {

EncoderTraining parse_encoder_training(const std::string& spec) {
  EncoderTraining t;
  if (spec == "none") return t;
  if (spec == "all") {
    t.all = true;
    return t;
  }
  const std::string prefix = "top:";
  if (spec.rfind(prefix, 0) == 0 && spec.size() > prefix.size() &&
      spec.find_first_not_of("0123456789", prefix.size()) == std::string::npos && spec.size() < prefix.size() + 6) {
    t.top_layers = std::stoll(spec.substr(prefix.size()));
    if (t.top_layers >= 1) return t;
  }
  throw Error("--encoder-train must be 'none', 'all' or 'top:N' with N >= 1 layers, not '" + spec + "'");
}

std::string describe(const EncoderTraining& t) {
  if (t.all) return "all";
  return t.top_layers > 0 ? "top:" + std::to_string(t.top_layers) : "none";
}

namespace {

template <typename T>
std::string text_of(const T& value) {
  std::ostringstream out;
  if constexpr (std::is_same_v<T, bool>) {
    out << (value ? "true" : "false");
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    out << join(value);
  } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
    for (std::size_t i = 0; i < value.size(); ++i) out << (i ? ", " : "") << value[i];
  } else {
    out.precision(17);
    out << value;
  }
  return out.str();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> field_texts(const ModelConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  visit_fields(config, [&out](const char* name, const auto& value) { out.emplace_back(name, text_of(value)); });
  return out;
}

std::vector<std::string> differences(const ModelConfig& a, const ModelConfig& b, const std::string& a_name,
                                     const std::string& b_name, const std::vector<std::string>& prefixes) {
  const auto ours = field_texts(a), theirs = field_texts(b);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const auto& name = ours[i].first;
    bool wanted = prefixes.empty();
    for (const auto& p : prefixes) wanted = wanted || name.rfind(p, 0) == 0;
    if (wanted && ours[i].second != theirs[i].second) {
      out.push_back(name + ": " + ours[i].second + " in " + a_name + ", " + theirs[i].second + " in " + b_name);
    }
  }
  return out;
}

}  // namespace moecollab
