#pragma once
// Shared between the weight_*.cpp files: writing a converted set into the store, checks.
#include "impasto/weights.h"

#include <string>

namespace impasto::detail {

// Writes <dir>/<name>.safetensors (with impasto metadata) and then <dir>/<name>.json, both
// atomically; the manifest is written last, so a set is only listed once its data is complete.
WeightSetInfo store_weight_set(const std::filesystem::path& dir, const std::string& name, const TensorMap& tensors,
                               InputNormalization normalization, const std::string& architecture,
                               const std::string& source, const std::string& source_sha256,
                               const std::string& details = "");

// Throws ConfigError unless the name is [A-Za-z0-9._-]+ and does not start with a dot.
void check_set_name(const std::string& name);

// Throws WeightsError (prefixed with `context`) unless `tensors` are exactly EfficientNet-Lite0's
// canonical tensors with the expected shapes, all float32.
void validate_efficientnet_lite0(const TensorMap& tensors, const std::string& context);

} // namespace impasto::detail
