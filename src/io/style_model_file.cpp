// .impasto model files: safetensors + format tag + JSON config + JSON model card (see style_model_file.h).
#include "impasto/style_model_file.h"

#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "impasto/version.h"
#include "io/bounded_json.h"
#include "io/model_card_json.h"
#include "io/sha256.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

namespace impasto {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr const char* kFormatTag = "impasto.style-model";
constexpr const char* kFormatVersion = "1";

// Any float tensor becomes `storage`; integer tensors (and tensors already in `storage`) pass through.
RawTensor convert_for_storage(const RawTensor& tensor, DType storage) {
    const bool is_float =
        tensor.dtype == DType::Float32 || tensor.dtype == DType::Float16 || tensor.dtype == DType::BFloat16;
    if (!is_float || tensor.dtype == storage) {
        return tensor;
    }
    const std::vector<float> values = tensor.to_float();
    if (storage == DType::Float32) {
        return RawTensor::from_float(tensor.shape, values);
    }
    RawTensor out;
    out.dtype = DType::Float16;
    out.shape = tensor.shape;
    out.bytes.resize(values.size() * 2);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::uint16_t half = float_to_half(values[i]);
        out.bytes[2 * i] = static_cast<std::uint8_t>(half & 0xffu);
        out.bytes[2 * i + 1] = static_cast<std::uint8_t>(half >> 8);
    }
    return out;
}

ojson parse_config(const std::string& config, const std::string& context) {
    if (config.empty()) {
        return ojson::object();
    }
    ojson json = parse_bounded_json<ojson, ConfigError>(config, JsonLimits{}, context + ": the config");
    if (!json.is_object()) {
        throw ConfigError(context + ": the config is not a JSON object");
    }
    return json;
}

// Names of the models in `dir` and its immediate subfolders, sorted, for "unknown model" messages.
std::vector<std::string> list_model_names(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    auto add_from = [&](const fs::path& folder) {
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->path().extension() == kStyleModelExtension && it->is_regular_file(ec)) {
                names.insert(it->path().stem().string());
            }
        }
        ec.clear();
    };
    add_from(dir);
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec)) {
            add_from(it->path());
        }
    }
    return {names.begin(), names.end()};
}

} // namespace

// Round to nearest, ties to even, on the bit pattern: no F16C or torch needed, and exact for every input.
std::uint16_t float_to_half(float value) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
    const std::uint32_t exponent = (bits >> 23) & 0xffu;
    std::uint32_t mantissa = bits & 0x7fffffu;
    if (exponent == 0xff) { // inf stays inf; NaN stays a (quiet) NaN even when its payload bits are all low
        return static_cast<std::uint16_t>(sign | 0x7c00u | (mantissa != 0 ? 0x200u | (mantissa >> 13) : 0u));
    }
    const int half_exponent = static_cast<int>(exponent) - 127 + 15;
    if (half_exponent >= 0x1f) { // too large: overflow to infinity
        return static_cast<std::uint16_t>(sign | 0x7c00u);
    }
    if (half_exponent <= 0) { // subnormal half or zero
        if (half_exponent < -10) {
            return sign; // below half the smallest subnormal: rounds to zero
        }
        mantissa |= 0x800000u; // the implicit leading one
        const int shift = 14 - half_exponent;
        const std::uint32_t halfway = 1u << (shift - 1);
        const std::uint32_t remainder = mantissa & ((1u << shift) - 1);
        std::uint32_t result = mantissa >> shift;
        if (remainder > halfway || (remainder == halfway && (result & 1u) != 0)) {
            ++result; // may carry into the smallest normal, which is the correct encoding
        }
        return static_cast<std::uint16_t>(sign | result);
    }
    std::uint32_t result = (static_cast<std::uint32_t>(half_exponent) << 10) | (mantissa >> 13);
    const std::uint32_t remainder = mantissa & 0x1fffu;
    if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u) != 0)) {
        ++result; // a carry out of the mantissa bumps the exponent, up to infinity: also correct
    }
    return static_cast<std::uint16_t>(sign | result);
}

const char* to_string(StyleModelKind kind) {
    switch (kind) {
    case StyleModelKind::Transformer:
        return "transformer";
    case StyleModelKind::Decoder:
        return "decoder";
    case StyleModelKind::StyleBank:
        return "stylebank";
    }
    return "?";
}

StyleModelKind parse_style_model_kind(const std::string& text) {
    for (StyleModelKind kind : {StyleModelKind::Transformer, StyleModelKind::Decoder, StyleModelKind::StyleBank}) {
        if (text == to_string(kind)) {
            return kind;
        }
    }
    throw ConfigError(fmt::format("unknown style model kind '{}' (known: transformer, decoder, stylebank)", text));
}

void write_style_model(const fs::path& file, const StyleModelFile& model, DType storage) {
    const std::string context = fmt::format("writing model '{}'", file.string());
    if (storage != DType::Float16 && storage != DType::Float32) {
        throw ConfigError(
            fmt::format("{}: storage dtype {} is not supported (F16 or F32)", context, dtype_name(storage)));
    }
    ojson config = parse_config(model.config, context);
    config["kind"] = to_string(model.kind);
    if (model.card.quality) {
        try {
            validate_quality(*model.card.quality);
        } catch (const ConfigError& e) {
            rethrow_with_context(e, context);
        }
    }
    ModelCard card = model.card;
    if (card.impasto_version.empty()) {
        card.impasto_version = IMPASTO_VERSION;
    }
    const StringMap metadata{{"format", kFormatTag},
                             {"format_version", kFormatVersion},
                             {"config", config.dump()},
                             {"card", io::card_to_json(card).dump()}};
    TensorMap tensors;
    for (const auto& [name, tensor] : model.tensors) {
        tensors.emplace(name, convert_for_storage(tensor, storage));
    }
    write_safetensors(file, tensors, metadata);
}

StyleModelFile read_style_model(const fs::path& file) {
    const std::string context = fmt::format("reading model '{}'", file.string());
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        throw InputError(fmt::format("{}: the file does not exist", context));
    }
    if (fs::is_directory(file, ec)) {
        throw InputError(fmt::format("{}: it is a folder, not a model file", context));
    }
    StringMap metadata;
    StyleModelFile model;
    try {
        model.tensors = read_safetensors(file, &metadata);
    } catch (const WeightsError& e) {
        throw InputError(fmt::format("'{}' is not an impasto model ({})", file.string(), e.what()));
    }
    const auto format = metadata.find("format");
    if (format == metadata.end() || format->second != kFormatTag) {
        throw InputError(fmt::format(R"('{}' is not an impasto model (no "format": "{}" in its metadata))",
                                     file.string(), kFormatTag));
    }
    if (metadata["format_version"] != kFormatVersion) {
        throw InputError(fmt::format("{}: format version '{}' is not supported (this build reads version {})", context,
                                     metadata["format_version"], kFormatVersion));
    }
    try {
        // Metadata comes from the file: size and nesting are checked before anything recurses into it.
        const ojson config = parse_bounded_json<ojson>(metadata["config"], JsonLimits{}, "the config");
        if (!config.is_object() || !config.contains("kind") || !config.at("kind").is_string()) {
            throw InputError("the config is not a JSON object with a \"kind\"");
        }
        model.kind = parse_style_model_kind(config.at("kind").get<std::string>());
        model.config = config.dump();
        model.card = io::card_from_json(parse_bounded_json<ojson>(metadata["card"], JsonLimits{}, "the model card"));
    } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("{}: malformed config or card ({})", context, e.what()));
    } catch (const Error& e) {
        throw InputError(fmt::format("{}: {}", context, e.what()));
    }
    return model;
}

void write_model_quality(const fs::path& file, const std::optional<ModelQuality>& quality,
                         const std::string& expected_tensors_sha256) {
    const std::string context = fmt::format("writing the quality record of model '{}'", file.string());
    if (quality) {
        try {
            validate_quality(*quality);
        } catch (const ConfigError& e) {
            rethrow_with_context(e, context);
        }
    }
    // Read as a plain safetensors file: whatever the tensors' dtypes, they go back as they came.
    StringMap metadata;
    TensorMap tensors;
    try {
        tensors = read_safetensors(file, &metadata);
    } catch (const WeightsError& e) {
        throw InputError(fmt::format("{}: not an impasto model ({})", context, e.what()));
    }
    const auto format = metadata.find("format");
    if (format == metadata.end() || format->second != kFormatTag || metadata["format_version"] != kFormatVersion) {
        throw InputError(fmt::format(R"({}: not an impasto model of format version {} (no "format": "{}" in its )"
                                     "metadata, or another version)",
                                     context, kFormatVersion, kFormatTag));
    }
    // What stays possible is a change between this read and the rename below: a window of
    // milliseconds, against the minutes a measurement takes, which is what this check is for.
    if (!expected_tensors_sha256.empty() && tensors_sha256(tensors) != expected_tensors_sha256) {
        throw OutputError(fmt::format("{}: its tensors changed since it was measured (retrained or replaced?); "
                                      "nothing was written",
                                      context));
    }
    // The card is edited as JSON, not rebuilt from a ModelCard, so that fields this version does not
    // know (written by a later one) survive; it must still read as a card.
    ojson card;
    try {
        card = parse_bounded_json<ojson>(metadata["card"], JsonLimits{}, "the model card");
        (void)io::card_from_json(card);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("{}: malformed card ({})", context, e.what()));
    } catch (const Error& e) {
        throw InputError(fmt::format("{}: {}", context, e.what()));
    }
    if (quality) {
        card["quality"] = io::quality_to_json(*quality);
    } else {
        card.erase("quality");
    }
    metadata["card"] = card.dump();
    if (metadata["card"].size() > JsonLimits{}.max_bytes) { // a file no reader would take back
        throw ConfigError(fmt::format("{}: the card would be {} bytes, over the limit of {}", context,
                                      metadata["card"].size(), JsonLimits{}.max_bytes));
    }
    write_safetensors(file, tensors, metadata);
}

std::string tensors_sha256(const TensorMap& tensors) {
    io::Sha256 hash;
    for (const auto& [name, tensor] : tensors) {
        // Each field ends in a NUL so that no two different sequences of fields hash the same bytes.
        std::string header = name + '\0' + dtype_name(tensor.dtype) + '\0';
        for (const std::int64_t dim : tensor.shape) {
            header += std::to_string(dim) + ',';
        }
        header += '\0' + std::to_string(tensor.bytes.size()) + '\0';
        hash.update(header.data(), header.size());
        hash.update(tensor.bytes.data(), tensor.bytes.size());
    }
    return hash.finish_hex();
}

std::string describe_style_model(const StyleModelFile& model) {
    std::int64_t parameters = 0;
    std::set<std::string> dtypes;
    for (const auto& [name, tensor] : model.tensors) {
        parameters += tensor.numel();
        dtypes.insert(dtype_name(tensor.dtype));
    }
    ojson config = parse_config(model.config, "describing a model");
    config["kind"] = to_string(model.kind);
    const ojson out{{"kind", to_string(model.kind)},
                    {"config", std::move(config)},
                    {"card", io::card_to_json(model.card)},
                    {"tensors", model.tensors.size()},
                    {"parameters", parameters},
                    {"storage", std::vector<std::string>(dtypes.begin(), dtypes.end())}};
    return out.dump(2);
}

fs::path default_models_dir() {
    if (const char* dir = std::getenv("IMPASTO_MODELS_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
#ifdef IMPASTO_SOURCE_MODELS_DIR
    std::error_code ec;
    if (fs::is_directory(IMPASTO_SOURCE_MODELS_DIR, ec)) {
        return IMPASTO_SOURCE_MODELS_DIR;
    }
#endif
    if (const char* data = std::getenv("XDG_DATA_HOME"); data != nullptr && *data != '\0') {
        return fs::path(data) / "impasto" / "models";
    }
    const char* home = std::getenv("HOME");
    return fs::path(home != nullptr ? home : ".") / ".local" / "share" / "impasto" / "models";
}

fs::path resolve_style_model(const std::string& name_or_path, const fs::path& dir) {
    std::error_code ec;
    if (name_or_path.empty()) {
        throw InputError("no style model given (expected a name or a path to a .impasto file)");
    }
    if (fs::is_regular_file(name_or_path, ec)) {
        return name_or_path;
    }
    // "starry_night" and "starry_night.impasto" both name <dir>/starry_night.impasto.
    fs::path file_name = name_or_path;
    if (file_name.extension() != kStyleModelExtension) {
        file_name += kStyleModelExtension;
    }
    if (!file_name.has_parent_path()) {
        if (fs::is_regular_file(dir / file_name, ec)) {
            return dir / file_name;
        }
        std::vector<fs::path> subfolders;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->is_directory(ec)) {
                subfolders.push_back(it->path());
            }
        }
        std::sort(subfolders.begin(), subfolders.end()); // deterministic when two folders hold the same name
        for (const auto& folder : subfolders) {
            if (fs::is_regular_file(folder / file_name, ec)) {
                return folder / file_name;
            }
        }
    }
    const std::vector<std::string> names = list_model_names(dir);
    if (!fs::is_directory(dir, ec)) {
        throw InputError(fmt::format("style model '{}' not found: no such file, and the models folder '{}' does not "
                                     "exist (set IMPASTO_MODELS_DIR)",
                                     name_or_path, dir.string()));
    }
    throw InputError(fmt::format("style model '{}' not found: no such file, and no {} in '{}' (available: {})",
                                 name_or_path, file_name.string(), dir.string(),
                                 names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
}

} // namespace impasto
