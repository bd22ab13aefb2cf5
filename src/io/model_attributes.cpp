#include "moecollab/io/model_attributes.h"

#include <type_traits>

#include "moecollab/util/error.h"

namespace moecollab {

void write_model_config(const h5::Handle& parent, const ModelConfig& config) {
  auto group = h5::create_group(parent, "model");
  visit_fields(config, [&group](const char* name, const auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::uint64_t>) {
      h5::write_attribute(group, name, static_cast<std::int64_t>(value));
    } else {
      h5::write_attribute(group, name, value);
    }
  });
}

ModelConfig read_model_config(const h5::Handle& parent, const std::string& path) {
  if (!h5::exists(parent, "model")) throw Error(path + ": no /model group (the description of the model)");
  const auto group = h5::open_group(parent, "model");
  ModelConfig config;
  visit_fields(config, [&](const char* name, auto& value) {
    if (!h5::has_attribute(group, name)) throw Error(path + ": /model has no attribute '" + std::string(name) + "'");
    using T = std::decay_t<decltype(value)>;
    try {
      if constexpr (std::is_same_v<T, bool>) {
        value = h5::read_int_attribute(group, name) != 0;
      } else if constexpr (std::is_same_v<T, std::uint64_t>) {
        value = static_cast<std::uint64_t>(h5::read_int_attribute(group, name));
      } else if constexpr (std::is_same_v<T, std::int64_t>) {
        value = h5::read_int_attribute(group, name);
      } else if constexpr (std::is_same_v<T, double>) {
        value = h5::read_double_attribute(group, name);
      } else if constexpr (std::is_same_v<T, std::string>) {
        value = h5::read_string_attribute(group, name);
      } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        value = h5::read_strings_attribute(group, name);
      } else {
        static_assert(std::is_same_v<T, std::vector<std::int64_t>>, "a ModelConfig field of a type not stored");
        value = h5::read_ints_attribute(group, name);
      }
    } catch (const Error& e) {
      throw Error(path + ": /model@" + name + ": " + e.what());
    }
  });
  if (config.domains.size() != config.label_counts.size()) {
    throw Error(path + ": /model has " + std::to_string(config.domains.size()) + " domains but " +
                std::to_string(config.label_counts.size()) + " label counts");
  }
  return config;
}

}  // namespace moecollab
