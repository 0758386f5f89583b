// Arbitrary style: method names, option checks and the decoder set (stylize_arbitrary is in
// arbitrary_stylize.cpp).
#include "fast/arbitrary_impl.h"
#include "impasto/error.h"
#include "io/bounded_json.h"
#include "nn/vgg.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace impasto {
namespace {

void require(bool ok, const std::string& field, const std::string& value, const std::string& allowed) {
    if (!ok) {
        throw ConfigError(field + " = " + value + " is out of range; allowed: " + allowed);
    }
}

std::string str(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

std::string join(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) {
        text += (text.empty() ? "" : ", ") + name;
    }
    return text;
}

void add_decoder(DecoderSet::Impl& impl, const StyleModelFile& file, const std::string& source) {
    if (file.kind != StyleModelKind::Decoder) {
        throw InputError(source + ": a " + std::string(to_string(file.kind)) + " model, not a decoder");
    }
    const nlohmann::json config = parse_bounded_json(file.config, JsonLimits{}, source + ": decoder config");
    if (!config.is_object() || !config.contains("level") || !config["level"].is_string()) {
        throw InputError(source + ": decoder config has no \"level\" (e.g. \"relu4_1\")");
    }
    const std::string level = config["level"].get<std::string>();
    const auto& levels = nn::decoder_levels();
    if (std::find(levels.begin(), levels.end(), level) == levels.end()) {
        throw InputError(source + ": decoder level '" + level + "' is unknown; known levels: " + join(levels));
    }
    const std::string encoder = config.value("encoder", std::string("vgg19"));
    if (encoder != "vgg19") {
        throw InputError(source + ": decoder for encoder '" + encoder + "'; only vgg19 decoders are supported");
    }
    if (const auto it = impl.decoders.find(level); it != impl.decoders.end()) {
        throw InputError(source + ": a second decoder for " + level + " (the first is " + it->second.source + ")");
    }
    DecoderSet::Impl::Entry entry;
    entry.decoder = nn::VggDecoder(level);
    try {
        entry.decoder->import_tensors(file.tensors);
    } catch (const WeightsError& error) {
        rethrow_with_context(error, source);
    }
    entry.decoder->to(nn::to_torch(impl.device));
    entry.decoder->eval();
    for (auto& parameter : entry.decoder->parameters()) {
        parameter.set_requires_grad(false);
    }
    entry.card = file.card;
    entry.source = source;
    impl.decoders.emplace(level, std::move(entry));
}

} // namespace

const char* to_string(TransformMethod method) {
    return method == TransformMethod::Adain ? "adain" : "wct";
}

TransformMethod parse_transform_method(const std::string& text) {
    if (text == "adain") {
        return TransformMethod::Adain;
    }
    if (text == "wct") {
        return TransformMethod::Wct;
    }
    throw ConfigError("unknown transform method '" + text + "'; choose one of: adain, wct");
}

void ArbitraryOptions::validate() const {
    require(std::isfinite(alpha) && alpha >= 0 && alpha <= 1, "alpha", str(alpha), "0..1");
    std::set<std::string> seen;
    for (const std::string& level : levels) {
        const auto& known = nn::decoder_levels();
        if (std::find(known.begin(), known.end(), level) == known.end()) {
            throw ConfigError("levels: '" + level + "' is not a decoder level; known levels: " + join(known));
        }
        if (!seen.insert(level).second) {
            throw ConfigError("levels: '" + level + "' is listed twice");
        }
    }
    require(size == 0 || (size >= 16 && size <= kMaxImageSide), "size", std::to_string(size),
            "0 (the content's size) or 16.." + std::to_string(kMaxImageSide));
    require(work_size == 0 || (work_size >= 16 && work_size <= kMaxImageSide), "work size", std::to_string(work_size),
            "0 (the output's size) or 16.." + std::to_string(kMaxImageSide));
    require(style_size >= 16 && style_size <= kMaxImageSide, "style size", std::to_string(style_size),
            "16.." + std::to_string(kMaxImageSide));
    require(max_pixels >= 256 && max_pixels <= (std::int64_t{1} << 40), "max pixels", std::to_string(max_pixels),
            "256..2^40");
    require(std::isfinite(wct_epsilon) && wct_epsilon > 0 && wct_epsilon <= 1, "wct epsilon", str(wct_epsilon),
            "(0, 1]");
    tiling.validate();
}

DecoderSet::DecoderSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DecoderSet::~DecoderSet() = default;

std::shared_ptr<const DecoderSet> DecoderSet::load(const std::filesystem::path& folder, const Device& device) {
    std::error_code error;
    if (!std::filesystem::is_directory(folder, error)) {
        throw InputError("decoder folder '" + folder.string() + "' does not exist or is not a folder");
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
        if (entry.is_regular_file() && entry.path().extension() == kStyleModelExtension) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    auto impl = std::make_unique<Impl>();
    impl->device = device;
    torch::NoGradGuard no_grad;
    for (const auto& file : files) {
        const StyleModelFile model = read_style_model(file);
        if (model.kind == StyleModelKind::Decoder) {
            add_decoder(*impl, model, "'" + file.string() + "'");
        }
    }
    if (impl->decoders.empty()) {
        throw InputError("decoder folder '" + folder.string() + "' holds no decoder models (*" + kStyleModelExtension +
                         " of kind decoder)");
    }
    return std::shared_ptr<const DecoderSet>(new DecoderSet(std::move(impl)));
}

std::shared_ptr<const DecoderSet> DecoderSet::from_files(const std::vector<StyleModelFile>& files,
                                                         const Device& device) {
    if (files.empty()) {
        throw InputError("no decoder models given");
    }
    auto impl = std::make_unique<Impl>();
    impl->device = device;
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < files.size(); ++i) {
        add_decoder(*impl, files[i], "decoder model #" + std::to_string(i + 1));
    }
    return std::shared_ptr<const DecoderSet>(new DecoderSet(std::move(impl)));
}

std::vector<std::string> DecoderSet::levels() const {
    std::vector<std::string> result;
    for (const std::string& level : nn::decoder_levels()) {
        if (has(level)) {
            result.push_back(level);
        }
    }
    return result;
}

bool DecoderSet::has(const std::string& level) const {
    return impl_->decoders.count(level) > 0;
}

const ModelCard& DecoderSet::card(const std::string& level) const {
    const auto it = impl_->decoders.find(level);
    if (it == impl_->decoders.end()) {
        throw ConfigError("no decoder for level '" + level + "'; the decoders cover: " + join(levels()));
    }
    return it->second.card;
}

} // namespace impasto
