// Writing files so that a crash never leaves a half-written file under its
// final name: write PATH.tmp in the same directory, fsync it, rename it over
// PATH, fsync the directory. Every file MoECollab writes goes through here.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace moecollab {

// The temporary name a file is written under before commit_file.
std::string temporary_path(const std::string& path);

// fsync `tmp`, rename it to `path`, fsync the directory. Throws Error on failure.
void commit_file(const std::string& tmp, const std::string& path);

// Writes `path` atomically with `write`, which fills the (binary) stream.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// The current UTC time as ISO 8601 ("2026-11-25T21:30:00Z"), for "created" attributes.
std::string utc_timestamp();

}  // namespace moecollab
