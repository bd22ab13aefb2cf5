// The persistent feature cache: a domain's features under a frozen encoder,
// kept on disk between runs, so that re-runs, `experiments/reproduce` and every
// point of a sweep after the first skip encoding. One HDF5 file per encoder and
// shard content, DIR/ENCODER-DATA.h5: ENCODER hashes the encoder's parameter
// fingerprint and every size and option that changes its output (layers, heads,
// pooling ...), DATA hashes every split's token ids (the texts, the vocabulary,
// the tokenizer's options and --max-length all show in them). A file is written
// once, to a temporary name unique to the process and then renamed (concurrent
// sweep points race harmlessly); a file that cannot be read or does not match is
// reported and encoded again, never trusted. Layout: docs/hdf5-layout.md.
#pragma once

#include <string>

#include "moecollab/model/encoder.h"
#include "moecollab/train/domain_shard.h"

namespace moecollab {

// The default directory: $MOECOLLAB_FEATURE_CACHE, else $XDG_CACHE_HOME/moecollab/features,
// else $HOME/.cache/moecollab/features; "" when none of them is set.
std::string default_feature_cache_dir();

// The file that holds `shard`'s features under `encoder`, in `dir`.
std::string feature_cache_path(const std::string& dir, Encoder& encoder, const DomainShard& shard);

// Fills `shard`'s feature cache (DomainShard::cache_features): read from `dir`
// when it holds this encoder's features of these texts, else encoded (progress
// reported as cache_features does) and written there; shard.cache_source says
// which. `dir` "": encoded only. A file that cannot be used, or a directory that
// cannot be written to, is a warning (cache_source.warning), not an error: the
// run goes on with features it encoded itself.
void fill_feature_cache(DomainShard& shard, Encoder& encoder, const std::string& dir,
                        const CacheProgressFn& progress = {});

}  // namespace moecollab
