#pragma once
// Shared between weight_store.cpp and weight_install.cpp: writing a converted set into the store.
#include "impasto/weights.h"

#include <string>

namespace impasto::detail {

// Writes <dir>/<name>.safetensors (with impasto metadata) and then <dir>/<name>.json, both
// atomically; the manifest is written last, so a set is only listed once its data is complete.
WeightSetInfo store_weight_set(const std::filesystem::path& dir, const std::string& name, const TensorMap& tensors,
                               InputNormalization normalization, const std::string& architecture,
                               const std::string& source, const std::string& source_sha256);

// Throws ConfigError unless the name is [A-Za-z0-9._-]+ and does not start with a dot.
void check_set_name(const std::string& name);

} // namespace impasto::detail
