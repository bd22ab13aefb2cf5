// A ModelConfig (model/model_config.h) in HDF5: one attribute per field on a
// group "model" of a checkpoint or expert package, typed as the field is
// (integers, floats, strings, string and integer lists; booleans as 0/1).
// Layout: docs/hdf5-layout.md ("Model description").
#pragma once

#include <string>

#include "moecollab/io/hdf5.h"
#include "moecollab/model/model_config.h"

namespace moecollab {

// Creates `parent`/model with every field of `config`.
void write_model_config(const h5::Handle& parent, const ModelConfig& config);
// Reads `parent`/model; Error naming `path` and the missing or mistyped field.
ModelConfig read_model_config(const h5::Handle& parent, const std::string& path);

}  // namespace moecollab
