// Validation of the training options, and the pieces both trainers share.
#include "train/train_common.h"

#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/style_model_file.h"
#include "impasto/version.h"
#include "io/sha256.h"
#include "nn/vgg_decoder.h"
#include "train/train_loop.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace impasto {
namespace {

std::string str(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

void require(bool ok, const std::string& field, const std::string& value, const std::string& allowed) {
    if (!ok) {
        throw ConfigError(field + " = " + value + " is out of range; allowed: " + allowed);
    }
}

void require_int(int value, const std::string& field, int low, int high) {
    require(value >= low && value <= high, field, std::to_string(value), fmt::format("{}..{}", low, high));
}

void require_weight(double value, const std::string& field) {
    require(std::isfinite(value) && value >= 0, field, str(value), ">= 0");
}

} // namespace

const char* to_string(LearningRateSchedule schedule) {
    return schedule == LearningRateSchedule::Cosine ? "cosine" : "constant";
}

LearningRateSchedule parse_learning_rate_schedule(const std::string& text) {
    if (text == "cosine") {
        return LearningRateSchedule::Cosine;
    }
    if (text == "constant") {
        return LearningRateSchedule::Constant;
    }
    throw ConfigError("unknown learning-rate schedule '" + text + "'; known: cosine, constant");
}

double scheduled_learning_rate(double learning_rate, LearningRateSchedule schedule, double final_fraction,
                               std::int64_t step, std::int64_t first, std::int64_t end) {
    if (schedule == LearningRateSchedule::Constant || end <= first + 1) {
        return learning_rate;
    }
    const double length = static_cast<double>(end - first);
    const double done = static_cast<double>(step - first);
    const double warmup = std::min(100.0, std::ceil(0.02 * length));
    const double ramp = std::min(1.0, (done + 1.0) / warmup);
    const double progress = std::clamp(done / (length - 1.0), 0.0, 1.0);
    const double cosine = final_fraction + (1.0 - final_fraction) * 0.5 * (1.0 + std::cos(M_PI * progress));
    return learning_rate * ramp * cosine;
}

void TrainCommonOptions::validate() const {
    if (data.empty()) {
        throw ConfigError("data: no training data folder given");
    }
    if (output.empty()) {
        throw ConfigError("output: no model file given");
    }
    require_int(steps, "steps", 1, kMaxTrainSteps);
    require_int(batch, "batch", 1, 1024);
    require_int(crop, "crop", 16, 4096);
    const std::int64_t batch_pixels = std::int64_t{batch} * crop * crop;
    require(batch_pixels <= kMaxBatchPixels, "batch x crop^2",
            fmt::format("{} x {}^2 = {} pixels", batch, crop, batch_pixels),
            fmt::format("up to {} pixels", kMaxBatchPixels));
    require(std::isfinite(learning_rate) && learning_rate > 0 && learning_rate <= 1, "learning_rate",
            str(learning_rate), "(0, 1]");
    require(precision != Precision::Fp16, "precision", to_string(precision), "fp32, bf16 (fp16 needs loss scaling)");
    require_int(loader_threads, "loader_threads", 1, 64);
    require_int(prefetch_batches, "prefetch_batches", 1, 64);
    require(prefetch_batches * batch_pixels <= kMaxQueuedPixels, "prefetch_batches x batch x crop^2",
            fmt::format("{} pixels", prefetch_batches * batch_pixels),
            fmt::format("up to {} pixels", kMaxQueuedPixels));
    require_int(checkpoint_every, "checkpoint_every", 0, 100'000'000);
    require_int(preview_every, "preview_every", 0, 100'000'000);
    require_int(event_every, "event_every", 1, 100'000);
    require(std::isfinite(color_jitter) && color_jitter >= 0 && color_jitter <= 1, "color_jitter", str(color_jitter),
            "0..1");
    require(std::isfinite(final_learning_rate_fraction) && final_learning_rate_fraction > 0 &&
                final_learning_rate_fraction <= 1,
            "final_learning_rate_fraction", str(final_learning_rate_fraction), "(0, 1]");
    if (resume && !init_model.empty()) {
        throw ConfigError("resume and init_model: a run continues from its checkpoint or from a model, not both");
    }
}

void TrainStyleOptions::validate() const {
    common.validate();
    if (styles.empty()) {
        throw ConfigError("styles: no style image given");
    }
    require_int(static_cast<int>(std::min<std::size_t>(styles.size(), 1'000'000)), "styles (count)", 1, 256);
    require(std::isfinite(width) && width >= 0.125 && width <= 4, "width", str(width), "0.125..4");
    require_int(style_size, "style_size", 16, 4096);
    if (content_layers.empty()) {
        throw ConfigError("content_layers: none given");
    }
    if (style_layers.empty()) {
        throw ConfigError("style_layers: none given");
    }
    check_layer_names(content_layers, "content layers");
    check_layer_names(style_layers, "style layers");
    if (!style_layer_weights.empty()) {
        if (style_layer_weights.size() != style_layers.size()) {
            throw ConfigError(fmt::format("style_layer_weights has {} values for {} style layers; give one per layer",
                                          style_layer_weights.size(), style_layers.size()));
        }
        double sum = 0;
        for (const double w : style_layer_weights) {
            require_weight(w, "style_layer_weights");
            sum += w;
        }
        require(sum > 0, "style_layer_weights", "all zero", "at least one positive");
    }
    require_weight(content_weight, "content_weight");
    require_weight(style_weight, "style_weight");
    require_weight(tv_weight, "tv_weight");
    require(content_weight + style_weight > 0, "content_weight + style_weight", "0", "> 0");
}

void TrainDecoderOptions::validate() const {
    common.validate();
    const auto& levels = nn::decoder_levels();
    if (std::find(levels.begin(), levels.end(), level) == levels.end()) {
        throw ConfigError(
            fmt::format("level = '{}' is not a decoder level; choose one of: {}", level, fmt::join(levels, ", ")));
    }
    const int stride = layer_stride(level);
    require(common.crop % stride == 0, "crop", std::to_string(common.crop),
            fmt::format("a multiple of {} (the stride of {})", stride, level));
    require_weight(pixel_weight, "pixel_weight");
    require_weight(feature_weight, "feature_weight");
    require(pixel_weight + feature_weight > 0, "pixel_weight + feature_weight", "0", "> 0");
    require_weight(adain_weight, "adain_weight");
    require_weight(adain_style_weight, "adain_style_weight");
    require(style_long_side >= common.crop && style_long_side <= 4096, "style_long_side",
            std::to_string(style_long_side), fmt::format("{}..4096 (at least the crop)", common.crop));
    if (!tail_model.empty() && !common.init_model.empty()) {
        throw ConfigError("tail_model and init_model: a decoder starts from a whole model or from a shallower "
                          "decoder's layers, not both");
    }
}

namespace train {
namespace fs = std::filesystem;
namespace {

nlohmann::json common_json(const TrainCommonOptions& o) {
    std::vector<std::string> data;
    for (const fs::path& folder : o.data) {
        data.push_back(folder.string());
    }
    return {{"data", data},
            {"steps", o.steps},
            {"batch", o.batch},
            {"crop", o.crop},
            {"learning_rate", o.learning_rate},
            {"schedule", to_string(o.schedule)},
            {"final_learning_rate_fraction", o.final_learning_rate_fraction},
            {"seed", o.seed},
            {"precision", to_string(o.precision)},
            {"checkpoint_every", o.checkpoint_every},
            {"color_jitter", o.color_jitter},
            {"init_model", o.init_model.string()},
            {"data_license", o.data_license}};
}

} // namespace

std::string options_json(const TrainStyleOptions& o) {
    nlohmann::json json = common_json(o.common);
    std::vector<std::string> styles;
    for (const fs::path& style : o.styles) {
        styles.push_back(style.string());
    }
    json["styles"] = styles;
    if (!o.base_model.empty()) {
        json["base_model"] = o.base_model.string();
    }
    json["width"] = o.width;
    json["style_size"] = o.style_size;
    json["content_layers"] = o.content_layers;
    json["style_layers"] = o.style_layers;
    json["style_layer_weights"] = o.style_layer_weights;
    json["content_weight"] = o.content_weight;
    json["style_weight"] = o.style_weight;
    json["tv_weight"] = o.tv_weight;
    return json.dump();
}

std::string options_json(const TrainDecoderOptions& o) {
    nlohmann::json json = common_json(o.common);
    json["level"] = o.level;
    json["pixel_weight"] = o.pixel_weight;
    json["feature_weight"] = o.feature_weight;
    json["tail_model"] = o.tail_model.string();
    if (!o.style_data.empty()) {
        std::vector<std::string> folders;
        for (const fs::path& folder : o.style_data) {
            folders.push_back(folder.string());
        }
        json["style_data"] = folders;
        json["adain_weight"] = o.adain_weight;
        json["adain_style_weight"] = o.adain_style_weight;
        json["style_long_side"] = o.style_long_side;
    }
    return json.dump();
}

std::string data_fingerprint(const TrainCommonOptions& o, const std::vector<fs::path>& files) {
    // File names, not folder paths: the same data reached by another path still resumes.
    io::Sha256 names;
    for (const fs::path& file : files) {
        const std::string name = file.filename().string();
        names.update(name.data(), name.size() + 1);
    }
    nlohmann::json json = {{"images", files.size()},
                           {"image_names_sha256", names.finish_hex()},
                           {"batch", o.batch},
                           {"crop", o.crop},
                           {"seed", o.seed},
                           {"learning_rate", o.learning_rate},
                           {"color_jitter", o.color_jitter}};
    if (!o.init_model.empty()) {
        json["init_model_sha256"] = io::sha256_file_hex(o.init_model);
    }
    return json.dump();
}

void record_training(ModelCard& card, const RunSummary& summary, const TrainCommonOptions& options,
                     const Device& device) {
    card.iterations = summary.steps_done;
    card.images_seen = summary.images_seen;
    card.wall_seconds = summary.wall_seconds;
    card.hardware = hardware_description(device, options.precision);
    card.final_losses = summary.final_losses;
    card.command = options.command;
    card.created_utc = utc_now_iso();
    card.impasto_version = IMPASTO_VERSION;
    card.stretches = summary.stretches;
    if (!card.stretches.empty()) {
        card.stretches.back().hardware = card.hardware;
        card.stretches.back().finished_utc = card.created_utc;
    }
}

StyleModelFile read_init_model(const TrainCommonOptions& options, StyleModelKind kind) {
    StyleModelFile model;
    try {
        model = read_style_model(options.init_model);
    } catch (const Error& e) {
        rethrow_with_context(InputError(e.what()), "the model to continue (init_model)");
    }
    if (model.kind != kind) {
        throw InputError(fmt::format("the model to continue, '{}', is a {} model; this trainer makes {} models",
                                     options.init_model.string(), to_string(model.kind), to_string(kind)));
    }
    return model;
}

std::string merge_json(const std::string& base, const std::string& extra) {
    nlohmann::json json = nlohmann::json::parse(base);
    json.update(nlohmann::json::parse(extra));
    return json.dump();
}

std::string hardware_description(const Device& device, Precision precision) {
    if (device.kind == DeviceKind::Cuda) {
        return fmt::format("{} ({})", device.str(), to_string(precision));
    }
    std::string model = "unknown CPU";
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
            model = line.substr(line.find(':') + 1);
            model.erase(0, model.find_first_not_of(" \t"));
            break;
        }
    }
    return fmt::format("cpu: {} ({} threads, {})", model, num_threads(), to_string(precision));
}

std::string training_data_description(const std::vector<fs::path>& folders, std::size_t images) {
    std::vector<std::string> names;
    for (const fs::path& folder : folders) {
        const fs::path clean = folder.lexically_normal();
        // The last two components say which data set and which part ("bsds500/train").
        const fs::path parent = clean.has_filename() ? clean.parent_path() : clean.parent_path().parent_path();
        const std::string last =
            clean.has_filename() ? clean.filename().string() : clean.parent_path().filename().string();
        names.push_back(parent.filename().empty() ? last : parent.filename().string() + "/" + last);
    }
    return fmt::format("{} ({} image{})", fmt::join(names, ", "), images, images == 1 ? "" : "s");
}

std::string utc_now_iso() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

void check_model_output(const fs::path& output, const fs::path& checkpoint) {
    if (output.extension() != kStyleModelExtension) {
        throw OutputError(fmt::format("output '{}' must end in {}", output.string(), kStyleModelExtension));
    }
    for (const fs::path& file : {output, checkpoint}) {
        const fs::path folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
        std::error_code ec;
        if (!file.empty() && !fs::is_directory(folder, ec)) {
            throw OutputError(
                fmt::format("output folder '{}' does not exist (for '{}')", folder.string(), file.string()));
        }
    }
}

c10::ScalarType training_compute_dtype(Precision precision) {
    switch (precision) {
    case Precision::Fp32:
        return c10::kFloat;
    case Precision::Bf16:
        return c10::kBFloat16;
    case Precision::Fp16:
        break;
    }
    throw ConfigError("precision = fp16 is out of range for training; allowed: fp32, bf16");
}

void LossAverager::add(const std::map<std::string, double>& losses) {
    for (const auto& [name, value] : losses) {
        sums_[name] += value;
    }
    ++count_;
}

std::map<std::string, double> LossAverager::take() {
    std::map<std::string, double> means;
    for (const auto& [name, sum] : sums_) {
        means[name] = count_ > 0 ? sum / count_ : 0.0;
    }
    sums_.clear();
    count_ = 0;
    return means;
}

} // namespace train
} // namespace impasto
