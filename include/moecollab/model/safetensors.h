// The safetensors format (Hugging Face's weight files), read and written
// directly: 8-byte little-endian header length N, N bytes of JSON mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (plus an
// optional "__metadata__"), then the raw little-endian buffer. Pure data: no
// code is ever executed, unlike a pickle.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "moecollab/model/named_tensors.h"

namespace moecollab {

// Every tensor of the file, converted to float32 for F16/BF16/F32/F64 and kept
// as is for I64/I32/U8. Throws Error naming the file for a truncated file, a
// malformed header, an unknown dtype, or offsets outside the buffer.
NamedTensors read_safetensors(const std::string& path);

// The tensor names of the file's header, without reading the buffer.
std::vector<std::string> safetensors_names(const std::string& path);

// Writes `tensors` (float32, float64, int64, int32, uint8) with optional
// string metadata, atomically (temporary file, then rename).
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace moecollab
