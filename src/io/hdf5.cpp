#include "moecollab/io/hdf5.h"

#include <filesystem>

#include "moecollab/util/error.h"
#include "moecollab/util/files.h"

namespace moecollab::h5 {
namespace {

// HDF5 prints its error stack to stderr by default; we raise our own Errors.
void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

void check(herr_t status, const std::string& what, const std::string& action) {
  if (status < 0) throw Error(what + ": HDF5 could not " + action);
}

hid_t native_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32:
      return H5T_NATIVE_FLOAT;
    case torch::kFloat64:
      return H5T_NATIVE_DOUBLE;
    case torch::kInt32:
      return H5T_NATIVE_INT32;
    case torch::kInt64:
      return H5T_NATIVE_INT64;
    case torch::kUInt8:
      return H5T_NATIVE_UINT8;
    default:
      throw Error(std::string("HDF5: unsupported tensor dtype ") + std::string(c10::toString(t)));
  }
}

torch::ScalarType scalar_type_of(hid_t type, const std::string& what) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT && size == 4) return torch::kFloat32;
  if (cls == H5T_FLOAT && size == 8) return torch::kFloat64;
  if (cls == H5T_INTEGER && size == 8) return torch::kInt64;
  if (cls == H5T_INTEGER && size == 4) return torch::kInt32;
  if (cls == H5T_INTEGER && size == 1 && H5Tget_sign(type) == H5T_SGN_NONE) return torch::kUInt8;
  throw Error(what + ": unsupported HDF5 element type (class " + std::to_string(cls) + ", " + std::to_string(size) +
              " bytes)");
}

std::string child(const Handle& parent, const std::string& name) { return parent.what() + "/" + name; }

// The names of links or attributes 0..count-1 of `object`, by name order;
// `get_name` is H5Lget_name_by_idx or H5Aget_name_by_idx (same signature).
template <typename GetName>
std::vector<std::string> names_by_index(const Handle& object, hsize_t count, GetName get_name) {
  std::vector<std::string> out;
  for (hsize_t i = 0; i < count; ++i) {
    const ssize_t n = get_name(object.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) throw Error(object.what() + ": HDF5 could not read a member's name");
    std::string name(static_cast<std::size_t>(n), '\0');
    get_name(object.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
    out.push_back(name);
  }
  return out;
}

Handle string_type() {
  Handle type(H5Tcopy(H5T_C_S1), "string type");
  check(H5Tset_size(type.id(), H5T_VARIABLE), "string type", "make a variable-length string type");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "string type", "set UTF-8");
  return type;
}

Handle open_attribute(const Handle& object, const std::string& name) {
  if (!has_attribute(object, name)) throw Error(object.what() + ": missing attribute '" + name + "'");
  return Handle(H5Aopen(object.id(), name.c_str(), H5P_DEFAULT), object.what() + "@" + name);
}

Handle new_attribute(const Handle& object, const std::string& name, hid_t type, const Handle& space) {
  if (has_attribute(object, name))
    check(H5Adelete(object.id(), name.c_str()), object.what(), "replace attribute " + name);
  return Handle(H5Acreate2(object.id(), name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                object.what() + "@" + name);
}

}  // namespace

Handle::Handle(hid_t id, const std::string& what) : id_(id), what_(what) {
  if (id < 0) throw Error(what + ": HDF5 could not open or create it");
}

Handle::~Handle() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      break;
  }
}

Handle::Handle(Handle&& other) noexcept : id_(other.id_), what_(std::move(other.what_)) { other.id_ = -1; }

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    Handle old(std::move(*this));
    id_ = other.id_;
    what_ = std::move(other.what_);
    other.id_ = -1;
  }
  return *this;
}

Handle open_file(const std::string& path, Mode mode) {
  silence_hdf5();
  if (mode != Mode::kCreate && std::filesystem::is_directory(path)) {
    throw Error(path + ": is a directory, not an HDF5 file");
  }
  if (mode == Mode::kCreate) {
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), path);
    // The newest format: needed for SWMR (readers of a file being written).
    check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), path, "set the file format");
    return Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), path);
  }
  if (!std::filesystem::exists(path)) throw Error(path + ": no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw Error(path + ": not an HDF5 file (or its header is corrupt)");
  unsigned flags = mode == Mode::kWrite ? H5F_ACC_RDWR : H5F_ACC_RDONLY;
  if (mode == Mode::kReadSwmr) flags |= H5F_ACC_SWMR_READ;
  const hid_t id = H5Fopen(path.c_str(), flags, H5P_DEFAULT);
  if (id < 0) throw Error(path + ": HDF5 cannot open it (truncated or corrupt file?)");
  return Handle(id, path);
}

void start_swmr(const Handle& file) { check(H5Fstart_swmr_write(file.id()), file.what(), "start SWMR writing"); }

void flush(const Handle& file) { check(H5Fflush(file.id(), H5F_SCOPE_GLOBAL), file.what(), "flush"); }

Handle create_group(const Handle& parent, const std::string& name) {
  return Handle(H5Gcreate2(parent.id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), child(parent, name));
}

Handle open_group(const Handle& parent, const std::string& name) {
  if (!exists(parent, name)) throw Error(parent.what() + ": missing group '" + name + "'");
  return Handle(H5Gopen2(parent.id(), name.c_str(), H5P_DEFAULT), child(parent, name));
}

Handle open_dataset(const Handle& parent, const std::string& name) {
  if (!exists(parent, name)) throw Error(parent.what() + ": missing dataset '" + name + "'");
  return Handle(H5Dopen2(parent.id(), name.c_str(), H5P_DEFAULT), child(parent, name));
}

bool exists(const Handle& parent, const std::string& path) {
  // H5Lexists fails, rather than answering no, when an intermediate group is missing.
  std::size_t at = 0;
  while (true) {
    const std::size_t slash = path.find('/', at);
    if (H5Lexists(parent.id(), path.substr(0, slash).c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
    at = slash + 1;
  }
}

void write_tensor(const Handle& parent, const std::string& name, const torch::Tensor& tensor_in) {
  const auto tensor = tensor_in.detach().to(torch::kCPU).contiguous();
  std::vector<hsize_t> dims(tensor.sizes().begin(), tensor.sizes().end());
  Handle space(
      dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
      child(parent, name));
  const hid_t type = native_type(tensor.scalar_type());
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), child(parent, name));
  check(H5Pset_create_intermediate_group(lcpl.id(), 1), child(parent, name), "allow intermediate groups");
  Handle dataset(H5Dcreate2(parent.id(), name.c_str(), type, space.id(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT),
                 child(parent, name));
  if (tensor.numel() > 0) {
    check(H5Dwrite(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.data_ptr()), dataset.what(), "write");
  }
}

torch::Tensor read_tensor(const Handle& parent, const std::string& name) {
  if (!exists(parent, name)) throw Error(parent.what() + ": missing dataset '" + name + "'");
  Handle dataset(H5Dopen2(parent.id(), name.c_str(), H5P_DEFAULT), child(parent, name));
  Handle type(H5Dget_type(dataset.id()), dataset.what());
  Handle space(H5Dget_space(dataset.id()), dataset.what());
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) throw Error(dataset.what() + ": unreadable shape");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  const auto dtype = scalar_type_of(type.id(), dataset.what());
  auto out = torch::empty(std::vector<std::int64_t>(dims.begin(), dims.end()), dtype);
  if (out.numel() > 0) {
    check(H5Dread(dataset.id(), native_type(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()), dataset.what(),
          "read (truncated or corrupt data?)");
  }
  return out;
}

std::vector<std::string> members(const Handle& group) {
  H5G_info_t info;
  check(H5Gget_info(group.id(), &info), group.what(), "list members");
  return names_by_index(group, info.nlinks, H5Lget_name_by_idx);
}

bool is_group(const Handle& parent, const std::string& name) {
  H5O_info_t info;
  if (H5Oget_info_by_name(parent.id(), name.c_str(), &info, H5P_DEFAULT) < 0) {
    throw Error(child(parent, name) + ": unreadable object");
  }
  return info.type == H5O_TYPE_GROUP;
}

std::vector<std::string> attribute_names(const Handle& object) {
  H5O_info_t info;
  check(H5Oget_info(object.id(), &info), object.what(), "list attributes");
  return names_by_index(object, info.num_attrs, H5Aget_name_by_idx);
}

void write_attribute(const Handle& object, const std::string& name, const std::string& value) {
  // A single string is stored as a scalar, which h5py reads as a plain str.
  Handle space(H5Screate(H5S_SCALAR), object.what());
  const auto type = string_type();
  auto attr = new_attribute(object, name, type.id(), space);
  const char* p = value.c_str();
  check(H5Awrite(attr.id(), type.id(), &p), attr.what(), "write");
}

void write_attribute(const Handle& object, const std::string& name, const std::vector<std::string>& values) {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), object.what());
  const auto type = string_type();
  auto attr = new_attribute(object, name, type.id(), space);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (n) check(H5Awrite(attr.id(), type.id(), ptrs.data()), attr.what(), "write");
}

void write_attribute(const Handle& object, const std::string& name, std::int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), object.what());
  auto attr = new_attribute(object, name, H5T_NATIVE_INT64, space);
  check(H5Awrite(attr.id(), H5T_NATIVE_INT64, &value), attr.what(), "write");
}

void write_attribute(const Handle& object, const std::string& name, double value) {
  Handle space(H5Screate(H5S_SCALAR), object.what());
  auto attr = new_attribute(object, name, H5T_NATIVE_DOUBLE, space);
  check(H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, &value), attr.what(), "write");
}

void write_attribute(const Handle& object, const std::string& name, const std::vector<std::int64_t>& values) {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), object.what());
  auto attr = new_attribute(object, name, H5T_NATIVE_INT64, space);
  if (n) check(H5Awrite(attr.id(), H5T_NATIVE_INT64, values.data()), attr.what(), "write");
}

std::vector<std::int64_t> read_ints_attribute(const Handle& object, const std::string& name) {
  auto attr = open_attribute(object, name);
  Handle space(H5Aget_space(attr.id()), attr.what());
  Handle stored(H5Aget_type(attr.id()), attr.what());
  if (H5Tget_class(stored.id()) != H5T_INTEGER || H5Sget_simple_extent_ndims(space.id()) != 1) {
    throw Error(attr.what() + ": expected a list of integers");
  }
  std::vector<std::int64_t> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.id())));
  if (!values.empty()) check(H5Aread(attr.id(), H5T_NATIVE_INT64, values.data()), attr.what(), "read");
  return values;
}

bool has_attribute(const Handle& object, const std::string& name) { return H5Aexists(object.id(), name.c_str()) > 0; }

std::vector<std::string> read_strings_attribute(const Handle& object, const std::string& name) {
  auto attr = open_attribute(object, name);
  Handle space(H5Aget_space(attr.id()), attr.what());
  Handle stored(H5Aget_type(attr.id()), attr.what());
  if (H5Tget_class(stored.id()) != H5T_STRING || H5Tis_variable_str(stored.id()) <= 0) {
    throw Error(attr.what() + ": expected variable-length strings");
  }
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  std::vector<char*> ptrs(static_cast<std::size_t>(std::max<hssize_t>(0, n)), nullptr);
  const auto type = string_type();
  if (!ptrs.empty()) check(H5Aread(attr.id(), type.id(), ptrs.data()), attr.what(), "read");
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

std::string read_string_attribute(const Handle& object, const std::string& name) {
  const auto values = read_strings_attribute(object, name);
  if (values.size() != 1) throw Error(object.what() + "@" + name + ": expected one string");
  return values[0];
}

// Refuses an attribute that is not one value: reading it into one would overrun.
namespace {
void require_scalar(const Handle& attr) {
  Handle space(H5Aget_space(attr.id()), attr.what());
  if (H5Sget_simple_extent_npoints(space.id()) != 1) throw Error(attr.what() + ": expected one value");
}
}  // namespace

std::int64_t read_int_attribute(const Handle& object, const std::string& name) {
  auto attr = open_attribute(object, name);
  require_scalar(attr);
  std::int64_t value = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_INT64, &value), attr.what(), "read");
  return value;
}

void write_format(const Handle& file, const run_dir::FileFormat& format) {
  write_attribute(file, "format", std::string(format.name));
  write_attribute(file, "format_version", format.version);
}

void require_format(const Handle& file, const std::string& path, const run_dir::FileFormat& format) {
  const std::string what = format.what;
  if (!has_attribute(file, "format") || read_string_attribute(file, "format") != format.name) {
    throw Error(path + ": not a MoECollab " + what + " (no format attribute '" + format.name + "')");
  }
  const auto found = has_attribute(file, "format_version") ? read_int_attribute(file, "format_version") : -1;
  if (found != format.version) {
    throw Error(path + ": " + what + " format version " + (found < 0 ? std::string("missing") : std::to_string(found)) +
                ", this build reads version " + std::to_string(format.version));
  }
}

double read_double_attribute(const Handle& object, const std::string& name) {
  auto attr = open_attribute(object, name);
  require_scalar(attr);
  double value = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &value), attr.what(), "read");
  return value;
}

Appendable Appendable::create(const Handle& parent, const std::string& name, const std::vector<hsize_t>& row_shape,
                              torch::ScalarType dtype, hsize_t chunk_rows) {
  std::vector<hsize_t> dims = {0}, max_dims = {H5S_UNLIMITED}, chunk = {chunk_rows};
  for (auto d : row_shape) {
    dims.push_back(d);
    max_dims.push_back(d);
    chunk.push_back(std::max<hsize_t>(1, d));
  }
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()), child(parent, name));
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), child(parent, name));
  check(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), child(parent, name), "set chunking");
  Appendable out;
  out.dataset_ =
      Handle(H5Dcreate2(parent.id(), name.c_str(), native_type(dtype), space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
             child(parent, name));
  out.row_shape_ = row_shape;
  out.dtype_ = dtype;
  return out;
}

void Appendable::append(const torch::Tensor& row) { append_rows(row.unsqueeze(0)); }

void Appendable::append_rows(const torch::Tensor& rows_in) {
  const auto rows = rows_in.detach().to(torch::kCPU).to(dtype_).contiguous();
  const hsize_t n = static_cast<hsize_t>(rows.size(0));
  std::int64_t per_row = 1;
  for (auto d : row_shape_) per_row *= static_cast<std::int64_t>(d);
  if (rows.numel() != static_cast<std::int64_t>(n) * per_row) {
    throw Error(dataset_.what() + ": appended rows do not have the dataset's row shape");
  }
  if (n == 0) return;
  std::vector<hsize_t> dims = {rows_ + n}, start = {rows_}, count = {n};
  for (auto d : row_shape_) {
    dims.push_back(d);
    start.push_back(0);
    count.push_back(d);
  }
  check(H5Dset_extent(dataset_.id(), dims.data()), dataset_.what(), "extend");
  Handle file_space(H5Dget_space(dataset_.id()), dataset_.what());
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        dataset_.what(), "select rows");
  Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), dataset_.what());
  check(H5Dwrite(dataset_.id(), native_type(dtype_), mem_space.id(), file_space.id(), H5P_DEFAULT, rows.data_ptr()),
        dataset_.what(), "append");
  rows_ += n;
}

void write_tensor_tree(const Handle& group, const std::map<std::string, torch::Tensor>& tensors) {
  for (const auto& [name, t] : tensors) write_tensor(group, name, t);
}

void write_tensor_file(const std::string& path, const std::map<std::string, torch::Tensor>& tensors) {
  const auto tmp = temporary_path(path);
  write_tensor_tree(open_file(tmp, Mode::kCreate), tensors);
  commit_file(tmp, path);
}

namespace {

void read_tree(const Handle& group, const std::string& prefix, std::map<std::string, torch::Tensor>& out) {
  for (const auto& name : members(group)) {
    if (is_group(group, name))
      read_tree(open_group(group, name), prefix + name + "/", out);
    else
      out[prefix + name] = read_tensor(group, name);
  }
}

}  // namespace

std::map<std::string, torch::Tensor> read_tensor_tree(const Handle& group) {
  std::map<std::string, torch::Tensor> out;
  read_tree(group, "", out);
  return out;
}

}  // namespace moecollab::h5
