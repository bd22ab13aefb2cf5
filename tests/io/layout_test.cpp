// Checks a log against docs/hdf5-layout.md, reading it with the plain HDF5 C
// API (not our writer's wrapper): every row of the named table (run-log or
// pretrain-log or sweep-summary) must exist with the documented shape and element type.
//   moecollab_layout_test LOG.h5 docs/hdf5-layout.md [TABLE]
#include <hdf5.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

int failures = 0;

void fail(const std::string& row, const std::string& why) {
  std::fprintf(stderr, "layout mismatch: %s: %s\n", row.c_str(), why.c_str());
  ++failures;
}

std::string trim(std::string s) {
  const auto a = s.find_first_not_of(" `");
  const auto b = s.find_last_not_of(" `");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// The documented shape as numbers; -1 where any size is allowed (c_d).
std::vector<long long> expected_dims(const std::string& shape, const std::map<std::string, long long>& sizes) {
  std::vector<long long> dims;
  if (shape == "scalar") return dims;
  std::stringstream in(shape.substr(1, shape.size() - 2));
  for (std::string item; std::getline(in, item, ',');) {
    item = trim(item);
    auto it = sizes.find(item);
    dims.push_back(it != sizes.end() ? it->second : (std::isdigit(item[0]) ? std::stoll(item) : -1));
  }
  return dims;
}

void check_type_and_shape(hid_t type, hid_t space, const std::string& row, const std::string& shape,
                          const std::string& dtype, const std::map<std::string, long long>& sizes) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (dtype == "string" && !(cls == H5T_STRING && H5Tis_variable_str(type) > 0))
    fail(row, "not a variable-length string");
  if (dtype == "int64" && !(cls == H5T_INTEGER && size == 8)) fail(row, "not int64");
  if (dtype == "float64" && !(cls == H5T_FLOAT && size == 8)) fail(row, "not float64");
  const auto want = expected_dims(shape, sizes);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank != static_cast<int>(want.size())) {
    fail(row, "rank " + std::to_string(rank) + ", documented " + std::to_string(want.size()));
    return;
  }
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  for (int i = 0; i < rank; ++i) {
    if (want[i] >= 0 && static_cast<long long>(dims[i]) != want[i]) {
      fail(row, "dimension " + std::to_string(i) + " is " + std::to_string(dims[i]) + ", documented " +
                    std::to_string(want[i]));
    }
  }
}

void check_attribute(hid_t file, const std::string& object, const std::string& name, const std::string& row,
                     const std::string& shape, const std::string& dtype,
                     const std::map<std::string, long long>& sizes) {
  if (H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) <= 0) return fail(row, "missing attribute");
  const hid_t attr = H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  const hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
  check_type_and_shape(type, space, row, shape, dtype, sizes);
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(attr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s LOG.h5 hdf5-layout.md [TABLE (run-log, pretrain-log, sweep-summary)]\n", argv[0]);
    return 2;
  }
  const std::string marker = "<!-- layout:" + std::string(argc == 4 ? argv[3] : "run-log") + " -->";
  const int min_rows = argc == 4 && std::string(argv[3]) != "run-log" ? 5 : 20;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t file = H5Fopen(argv[1], H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
  if (file < 0) {
    std::fprintf(stderr, "%s: cannot open\n", argv[1]);
    return 1;
  }
  // R from /rounds/round (logs), N from /index (sweep summary), D = E from /@domains.
  std::map<std::string, long long> sizes;
  const auto length = [file](const char* group, const char* path) -> long long {
    if (H5Lexists(file, group, H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0) return -1;
    const hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    const hid_t s = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(s, &n, nullptr);
    H5Sclose(s);
    H5Dclose(d);
    return static_cast<long long>(n);
  };
  sizes["R"] = length("/rounds", "/rounds/round");
  sizes["N"] = length("/index", "/index");
  {
    const hid_t a = H5Aopen_by_name(file, "/", "domains", H5P_DEFAULT, H5P_DEFAULT);
    const hid_t as = H5Aget_space(a);
    sizes["D"] = sizes["E"] = H5Sget_simple_extent_npoints(as);
    H5Sclose(as);
    H5Aclose(a);
  }
  if (sizes["R"] == 0 || sizes["N"] == 0) std::fprintf(stderr, "warning: no rows\n");

  std::ifstream doc(argv[2]);
  bool in_table = false;
  int rows = 0;
  for (std::string line; std::getline(doc, line);) {
    if (line.find(marker) != std::string::npos) {
      in_table = true;
      continue;
    }
    if (in_table && line.find("<!-- /layout -->") != std::string::npos) break;
    if (!in_table || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream in(line.substr(1));
    for (std::string cell; std::getline(in, cell, '|');) cells.push_back(trim(cell));
    const std::string& path = cells[0];
    const std::string& shape = cells[1];
    const std::string& dtype = cells[2];
    ++rows;
    const auto at = path.find('@');
    if (at == std::string::npos) {
      if (H5Lexists(file, path.c_str(), H5P_DEFAULT) <= 0) {
        fail(path, "missing dataset");
        continue;
      }
      const hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
      const hid_t type = H5Dget_type(d), space = H5Dget_space(d);
      check_type_and_shape(type, space, path, shape, dtype, sizes);
      H5Sclose(space);
      H5Tclose(type);
      H5Dclose(d);
      continue;
    }
    const std::string object = at == 1 ? "/" : path.substr(0, at);
    const std::string name = path.substr(at + 1);
    if (name != "*") {
      check_attribute(file, object, name, path, shape, dtype, sizes);
      continue;
    }
    // One attribute per domain.
    const hid_t obj = H5Oopen(file, object.c_str(), H5P_DEFAULT);
    H5O_info_t info;
    H5Oget_info(obj, &info);
    if (static_cast<long long>(info.num_attrs) != sizes["D"]) fail(path, "expected one attribute per domain");
    for (hsize_t i = 0; i < info.num_attrs; ++i) {
      char attr_name[256];
      H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, attr_name, sizeof attr_name, H5P_DEFAULT);
      check_attribute(file, object, attr_name, path + " (" + attr_name + ")", shape, dtype, sizes);
    }
    H5Oclose(obj);
  }
  H5Fclose(file);
  if (rows < min_rows) {
    std::fprintf(stderr, "only %d documented rows found in %s\n", rows, argv[2]);
    return 1;
  }
  std::printf("%d documented rows checked, %d mismatches (R=%lld, D=%lld)\n", rows, failures, sizes["R"], sizes["D"]);
  return failures == 0 ? 0 : 1;
}
