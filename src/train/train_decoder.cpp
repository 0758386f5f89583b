// Training a decoder that inverts VGG19 at one relu layer (Li et al. 2017; Huang & Belongie 2017
// for relu4_1): pixel reconstruction plus feature reconstruction through the frozen encoder.
#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"
#include "io/bounded_json.h"
#include "io/sha256.h"
#include "nn/losses.h"
#include "nn/vgg.h"
#include "nn/vgg_decoder.h"
#include "train/adain_objective.h"
#include "train/image_folder_dataset.h"
#include "train/train_common.h"
#include "train/train_loop.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>

namespace impasto {
namespace fs = std::filesystem;
namespace {

// About 2 million pixels at 128 px crops in 8s: far more rows than the 577 unknowns.
constexpr int kLinearSolveBatches = 16;

void check_encoder(const FeatureModel& vgg) {
    if (vgg.architecture() != Architecture::Vgg19) {
        throw ConfigError(fmt::format("decoders invert VGG19; the weight set '{}' is a {}", vgg.info().name,
                                      architecture_name(vgg.architecture())));
    }
}

// A decoder model file for `level` made against this encoder; throws InputError naming `what`.
nlohmann::json check_decoder_file(const StyleModelFile& file, const std::string& level, const FeatureModel& vgg,
                                  const std::string& what) {
    const nlohmann::json config = parse_bounded_json(file.config, JsonLimits{}, what + ": its config");
    if (config.value("level", "") != level) {
        throw InputError(fmt::format("{} inverts {}, not {}", what, config.value("level", "?"), level));
    }
    if (config.value("encoder_sha256", "") != vgg.info().sha256) {
        throw InputError(fmt::format("{} was trained against other encoder weights than '{}'", what, vgg.info().name));
    }
    return config;
}

// Starts the layers after the first block of `decoder` from a shallower decoder's. The tail's
// input scale is folded into its first convolution: that layer reads the deep decoder's own ReLU
// output, which is what the tail saw as scaled features once training has matched them.
void load_tail(nn::VggDecoder& decoder, const StyleModelFile& file, const FeatureModel& vgg) {
    const nlohmann::json config = parse_bounded_json(file.config, JsonLimits{}, "the tail decoder's config");
    const std::string tail_level = config.value("level", "");
    check_decoder_file(file, tail_level, vgg, "the tail decoder");
    if (layer_stride(tail_level) * 2 != layer_stride(decoder->level())) {
        throw InputError(fmt::format("the tail decoder inverts {}; a {} decoder's tail is the decoder of the level "
                                     "one block shallower",
                                     tail_level, decoder->level()));
    }
    nn::VggDecoder tail(tail_level);
    tail->import_tensors(file.tensors);
    const std::size_t offset = decoder->convs().size() - tail->convs().size();
    const torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < tail->convs().size(); ++i) {
        const double scale = i == 0 ? tail->input_scale() : 1.0;
        decoder->convs()[offset + i]->weight.copy_(tail->convs()[i]->weight * scale);
        decoder->convs()[offset + i]->bias.copy_(tail->convs()[i]->bias);
    }
}

// The relu1_1 decoder is one 3x3 convolution: its pixel-error optimum is a linear least-squares
// problem over 64 x 9 feature values (and a bias) per output pixel. relu1_1's features are
// strongly correlated, so gradient descent creeps towards that optimum over thousands of steps;
// solving the normal equations over the first `batches` batches starts training there. Sums in
// double; a ridge of 1e-6 of the mean diagonal keeps dead features from making them singular.
template <class Encode>
void solve_linear_decoder(nn::VggDecoder& decoder, const train::ImageFolderDataset& data, int batches,
                          const torch::Device& device, Encode encode) {
    const torch::NoGradGuard no_grad;
    torch::Tensor normal;
    torch::Tensor moments;
    for (int b = 0; b < batches; ++b) {
        std::vector<float> values = data.batch(b);
        const auto& o = data.options();
        const torch::Tensor rgb = torch::from_blob(values.data(), {o.batch, 3, o.crop, o.crop}).to(device);
        const torch::Tensor features = encode(rgb).to(torch::kFloat) * decoder->input_scale();
        for (std::int64_t i = 0; i < rgb.size(0); ++i) {
            // One image at a time: [pixels, 64*9 + 1] float rows are 38 MB at 128 px.
            const torch::Tensor patches =
                torch::nn::functional::unfold(torch::reflection_pad2d(features.slice(0, i, i + 1), {1, 1, 1, 1}),
                                              torch::nn::functional::UnfoldFuncOptions({3, 3}))[0]
                    .t();
            const torch::Tensor rows = torch::cat({patches, torch::ones({patches.size(0), 1}, patches.options())}, 1);
            const torch::Tensor targets = rgb[i].permute({1, 2, 0}).reshape({-1, 3});
            // fp32 products within an image (16k terms), summed in double across images.
            const torch::Tensor a = rows.t().mm(rows).to(torch::kDouble);
            const torch::Tensor r = rows.t().mm(targets).to(torch::kDouble);
            normal = normal.defined() ? normal.add_(a) : a;
            moments = moments.defined() ? moments.add_(r) : r;
        }
    }
    const double ridge = 1e-6 * normal.diagonal().mean().item<double>();
    const torch::Tensor identity = torch::eye(normal.size(0), normal.options());
    const torch::Tensor solution = torch::linalg_solve(normal + ridge * identity, moments); // [577, 3]
    auto& conv = decoder->convs().front();
    conv->weight.copy_(solution.slice(0, 0, -1).t().reshape(conv->weight.sizes()).to(torch::kFloat));
    conv->bias.copy_(solution[-1].to(torch::kFloat));
}

} // namespace

void check_training_inputs(const TrainDecoderOptions& options) {
    options.validate();
    train::check_model_output(options.common.output, options.common.checkpoint);
    train::list_training_images(options.common.data);
    if (!options.common.init_model.empty()) {
        train::read_init_model(options.common, StyleModelKind::Decoder);
    }
    if (!options.tail_model.empty()) {
        try {
            read_style_model(options.tail_model);
        } catch (const Error& e) {
            rethrow_with_context(InputError(e.what()), "the tail decoder");
        }
    }
    if (!options.common.preview_content.empty()) {
        try {
            load_image(options.common.preview_content);
        } catch (const Error& e) {
            rethrow_with_context(InputError(e.what()), "preview content");
        }
    }
}

TrainResult train_decoder(const FeatureModel& vgg, const TrainDecoderOptions& options, const TrainCallback& on_event) {
    options.validate();
    check_encoder(vgg);
    const TrainCommonOptions& common = options.common;
    train::check_model_output(common.output, common.checkpoint);
    const std::vector<fs::path> files = train::list_training_images(common.data);
    const c10::ScalarType compute = train::training_compute_dtype(common.precision);
    const torch::Device device = nn::to_torch(vgg.device());
    const int stride = layer_stride(options.level);
    Image preview_content;
    if (!common.preview_content.empty()) {
        try {
            preview_content = load_image(common.preview_content);
        } catch (const Error& e) {
            rethrow_with_context(InputError(e.what()), "preview content");
        }
        // Both sides a multiple of the stride, so that the decoded image matches the input.
        const Image sized = resize_long_side(preview_content, 2 * common.crop);
        preview_content = resize_image(sized, std::max(stride, sized.width / stride * stride),
                                       std::max(stride, sized.height / stride * stride));
    }

    nn::VggDecoder decoder = train::with_seeded_init(common.seed, [&] { return nn::VggDecoder(options.level); });
    train::TrainingStart start;
    if (!common.init_model.empty()) {
        const StyleModelFile init = train::read_init_model(common, StyleModelKind::Decoder);
        check_decoder_file(init, options.level, vgg, "the model to continue");
        decoder->import_tensors(init.tensors);
        start = train::TrainingStart::from_card(init.card);
    } else if (!options.tail_model.empty()) {
        StyleModelFile tail;
        try {
            tail = read_style_model(options.tail_model);
        } catch (const Error& e) {
            rethrow_with_context(InputError(e.what()), "the tail decoder");
        }
        load_tail(decoder, tail, vgg);
    }
    decoder->to(device);
    torch::optim::Adam optimizer(decoder->parameters(), torch::optim::AdamOptions(common.learning_rate));
    const std::vector<std::string> layers{options.level};

    const auto encode = [&](const torch::Tensor& rgb) {
        const detail::AutocastGuard autocast(device.type(), compute);
        return nn::extract_features(vgg.impl(), rgb, layers, Pooling::Max).at(options.level);
    };
    const auto decode = [&](const torch::Tensor& features) {
        const detail::AutocastGuard autocast(device.type(), compute);
        return decoder->forward(features).to(torch::kFloat);
    };

    // A resumed or continued decoder has its scale already.
    bool calibrated = common.resume || !common.init_model.empty();
    if (!calibrated && options.level == "relu1_1") {
        train::DatasetOptions data_options{common.batch, common.crop, common.seed};
        data_options.color_jitter = common.color_jitter;
        const train::ImageFolderDataset first_batches(files, data_options);
        std::vector<float> values = first_batches.batch(0);
        const torch::Tensor first =
            torch::from_blob(values.data(), {common.batch, 3, common.crop, common.crop}).to(device);
        {
            const torch::NoGradGuard no_grad;
            const double rms = encode(first).to(torch::kFloat).pow(2).mean().sqrt().item<double>();
            decoder->set_input_scale(rms > 0 ? 1.0 / rms : 1.0);
        }
        calibrated = true;
        solve_linear_decoder(decoder, first_batches, kLinearSolveBatches, device, encode);
    }
    // The AdaIN objective's paintings and the layers its style term reads.
    std::optional<train::PaintingCrops> paintings;
    if (!options.style_data.empty()) {
        paintings.emplace(options.style_data, options.style_long_side, common.crop, common.seed);
    }
    const std::vector<std::string> style_layers = train::adain_style_layers(options.level);
    const auto encode_layers = [&](const torch::Tensor& rgb) {
        const detail::AutocastGuard autocast(device.type(), compute);
        return nn::extract_features(vgg.impl(), rgb, style_layers, Pooling::Max);
    };
    // Content and style terms of the decoded AdaIN output, for batch `step`.
    const auto adain_terms = [&](std::int64_t step, const torch::Tensor& content_features) {
        torch::Tensor target;
        std::map<std::string, train::BatchMeanStd> style_stats;
        {
            const torch::NoGradGuard no_grad;
            const nn::FeatureMap style_features =
                encode_layers(paintings->batch(step, static_cast<int>(content_features.size(0)), device));
            for (const std::string& layer : style_layers) {
                style_stats[layer] = train::batch_mean_std(style_features.at(layer));
            }
            target = train::adain_target(content_features, style_stats.at(options.level));
        }
        const nn::FeatureMap decoded = encode_layers(decode(target));
        const torch::Tensor content = nn::normalized_content_loss(decoded.at(options.level), target);
        torch::Tensor style = torch::zeros({}, content.options());
        for (const std::string& layer : style_layers) {
            style = style + train::mean_std_loss(decoded.at(layer), style_stats.at(layer));
        }
        return std::make_pair(content, style / static_cast<double>(style_layers.size()));
    };
    train::StepProfiler profiler(common.profile, device);
    train::TrainingHooks hooks;
    hooks.profiler = &profiler;
    hooks.step = [&](std::int64_t step, const torch::Tensor& batch) {
        torch::Tensor target;
        {
            const torch::NoGradGuard no_grad;
            target = encode(batch);
        }
        profiler.mark("targets");
        if (!calibrated) {
            // A fresh decoder sees features of order one (a resumed one has its scale from the checkpoint).
            const double rms = target.to(torch::kFloat).pow(2).mean().sqrt().item<double>();
            decoder->set_input_scale(rms > 0 ? 1.0 / rms : 1.0);
            calibrated = true;
        }
        optimizer.zero_grad();
        const torch::Tensor decoded = decode(target);
        profiler.mark("forward");
        const torch::Tensor pixel = (decoded - batch).pow(2).mean() * options.pixel_weight;
        const torch::Tensor feature = nn::normalized_content_loss(encode(decoded), target) * options.feature_weight;
        torch::Tensor total = pixel + feature;
        std::map<std::string, double> losses{{"pixel", pixel.item<double>()}, {"feature", feature.item<double>()}};
        if (paintings) {
            const auto [content, style] = adain_terms(step, target);
            total = total + options.adain_weight * (content + options.adain_style_weight * style);
            losses["adain_content"] = content.item<double>();
            losses["adain_style"] = style.item<double>();
        }
        losses["total"] = total.item<double>();
        profiler.mark("loss");
        total.backward();
        profiler.mark("backward");
        optimizer.step();
        profiler.mark("optimizer");
        return losses;
    };
    // Input and reconstruction side by side.
    hooks.preview = [&](std::int64_t /*done*/, const torch::Tensor& sample) {
        const torch::NoGradGuard no_grad;
        const torch::Tensor input = preview_content.empty() ? sample : detail::image_to_tensor(preview_content, device);
        const torch::Tensor decoded = decode(encode(input)).clamp(0, 1);
        return detail::tensor_to_image(torch::cat({input, decoded}, 3));
    };
    hooks.write_model = [&](const train::RunSummary& summary) {
        StyleModelFile file;
        file.kind = StyleModelKind::Decoder;
        file.config = nlohmann::json{{"level", options.level},
                                     {"encoder", "vgg19"},
                                     {"encoder_weights", vgg.info().name},
                                     {"encoder_sha256", vgg.info().sha256}}
                          .dump();
        file.tensors = decoder->export_tensors();
        ModelCard& card = file.card;
        card.training_data = train::training_data_description(common.data, files.size());
        card.data_license = common.data_license;
        card.training_options = train::options_json(options);
        if (paintings) {
            for (const fs::path& painting : paintings->files()) {
                card.style_images.push_back({painting.stem().string(), io::sha256_file_hex(painting)});
            }
        }
        train::record_training(card, summary, common, vgg.device());
        write_style_model(common.output, file);
    };
    const nlohmann::json extra = {{"trainer", "decoder"},
                                  {"level", options.level},
                                  {"pixel_weight", options.pixel_weight},
                                  {"feature_weight", options.feature_weight},
                                  {"loss_network_sha256", vgg.info().sha256}};
    nlohmann::json fingerprint_extra = extra;
    if (paintings) {
        std::vector<std::string> names;
        for (const fs::path& file : paintings->files()) {
            names.push_back(file.filename().string());
        }
        fingerprint_extra["style_data"] = names;
        fingerprint_extra["adain_weight"] = options.adain_weight;
        fingerprint_extra["adain_style_weight"] = options.adain_style_weight;
        fingerprint_extra["style_long_side"] = options.style_long_side;
    }
    if (!options.tail_model.empty()) {
        fingerprint_extra["tail_model_sha256"] = io::sha256_file_hex(options.tail_model);
    }
    const std::string fingerprint = train::merge_json(train::data_fingerprint(common, files), fingerprint_extra.dump());
    return train::run_training(common, files, fingerprint, *decoder, optimizer, device, hooks, on_event, start);
}

} // namespace impasto
