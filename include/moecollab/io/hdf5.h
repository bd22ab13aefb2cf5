// A thin RAII layer over the HDF5 C API: handles that close themselves,
// tensors and attributes in and out, and datasets that grow along their first
// axis (one row per training round). Every failure is an Error naming the file
// and the object. HDF5's own error printing is switched off; we report instead.
#pragma once

#include <hdf5.h>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "moecollab/io/run_dir.h"

namespace moecollab::h5 {

// Owns one HDF5 identifier (file, group, dataset, dataspace, property list ...).
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, const std::string& what);  // throws when id < 0
  ~Handle();
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  const std::string& what() const { return what_; }

 private:
  hid_t id_ = -1;
  std::string what_;
};

enum class Mode { kCreate, kRead, kReadSwmr, kWrite };

// kCreate truncates; kReadSwmr reads a file another process is still writing.
Handle open_file(const std::string& path, Mode mode);
// Switches a file created with open_file(kCreate) into single-writer/multi-reader mode.
// REQUIRES: every dataset and attribute the writer will use already exists.
void start_swmr(const Handle& file);

// Throws Error unless the file's /@format is format.name and /@format_version
// is format.version: "PATH: not a MoECollab WHAT (no format attribute 'FORMAT')"
// or "PATH: WHAT format version N, this build reads version M".
void require_format(const Handle& file, const std::string& path, const run_dir::FileFormat& format);
// Writes /@format and /@format_version, what require_format checks.
void write_format(const Handle& file, const run_dir::FileFormat& format);
void flush(const Handle& file);

Handle create_group(const Handle& parent, const std::string& name);
Handle open_group(const Handle& parent, const std::string& name);
// A dataset, to read its attributes.
Handle open_dataset(const Handle& parent, const std::string& name);
bool exists(const Handle& parent, const std::string& name);

// A whole tensor as a dataset of its dtype and shape (float32/64, int32/64, uint8).
// `name` may be a path ("a/b/c"); missing groups on the way are created.
void write_tensor(const Handle& parent, const std::string& name, const torch::Tensor& tensor);
torch::Tensor read_tensor(const Handle& parent, const std::string& name);

// Many tensors by path-like names ("parameters/gate.weight"), as datasets under `group`.
void write_tensor_tree(const Handle& group, const std::map<std::string, torch::Tensor>& tensors);
// `tensors` as the datasets of an HDF5 file of their own, written atomically
// (temporary file, then rename).
void write_tensor_file(const std::string& path, const std::map<std::string, torch::Tensor>& tensors);
// Every dataset under `group` (recursively), by its path relative to it.
std::map<std::string, torch::Tensor> read_tensor_tree(const Handle& group);
// Names of a group's members, in HDF5's (alphabetical) order.
std::vector<std::string> members(const Handle& group);
bool is_group(const Handle& parent, const std::string& name);
std::vector<std::string> attribute_names(const Handle& object);

void write_attribute(const Handle& object, const std::string& name, const std::string& value);
void write_attribute(const Handle& object, const std::string& name, std::int64_t value);
void write_attribute(const Handle& object, const std::string& name, double value);
void write_attribute(const Handle& object, const std::string& name, const std::vector<std::string>& values);
void write_attribute(const Handle& object, const std::string& name, const std::vector<std::int64_t>& values);
std::string read_string_attribute(const Handle& object, const std::string& name);
std::int64_t read_int_attribute(const Handle& object, const std::string& name);
double read_double_attribute(const Handle& object, const std::string& name);
std::vector<std::string> read_strings_attribute(const Handle& object, const std::string& name);
std::vector<std::int64_t> read_ints_attribute(const Handle& object, const std::string& name);
bool has_attribute(const Handle& object, const std::string& name);

// A dataset of rows of fixed shape `row_shape` that grows along axis 0,
// chunked by `chunk_rows`. Appending extends it by one row and writes it.
class Appendable {
 public:
  static Appendable create(const Handle& parent, const std::string& name, const std::vector<hsize_t>& row_shape,
                           torch::ScalarType dtype, hsize_t chunk_rows = 16);
  // REQUIRES: row has row_shape's elements and the dataset's dtype.
  void append(const torch::Tensor& row);
  // Several rows at once (rows.size(0) rows).
  void append_rows(const torch::Tensor& rows);
  hsize_t rows() const { return rows_; }
  const Handle& handle() const { return dataset_; }

 private:
  Handle dataset_;
  std::vector<hsize_t> row_shape_;
  torch::ScalarType dtype_ = torch::kFloat64;
  hsize_t rows_ = 0;
};

}  // namespace moecollab::h5
