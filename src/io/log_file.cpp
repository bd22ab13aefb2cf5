#include "log_file.h"

#include "moecollab/util/files.h"

namespace moecollab::h5 {

Handle create_log_file(const std::string& path, const LogIdentity& identity) {
  auto file = open_file(path, Mode::kCreate);
  write_format(file, identity.format);
  write_attribute(file, "created", utc_timestamp());
  write_attribute(file, "git_revision", identity.git_revision);
  write_attribute(file, "world_size", identity.world_size);
  write_attribute(file, "domains", identity.domains);
  auto config = create_group(file, "config");
  for (const auto& [key, value] : identity.config) write_attribute(config, key, value);
  return file;
}

Appendable create_round_dataset(const Handle& rounds, const std::string& name, const std::vector<hsize_t>& row_shape,
                                torch::ScalarType dtype, const std::string& unit,
                                const std::vector<std::string>* columns) {
  auto a = Appendable::create(rounds, name, row_shape, dtype);
  write_attribute(a.handle(), "unit", unit);
  if (columns) write_attribute(a.handle(), "columns", *columns);
  return a;
}

}  // namespace moecollab::h5
