// Training a decoder that inverts VGG19 at one relu layer (Li et al. 2017; Huang & Belongie 2017
// for relu4_1): pixel reconstruction plus feature reconstruction through the frozen encoder.
#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"
#include "impasto/version.h"
#include "nn/losses.h"
#include "nn/vgg.h"
#include "nn/vgg_decoder.h"
#include "train/image_folder_dataset.h"
#include "train/train_common.h"
#include "train/train_loop.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto {
namespace fs = std::filesystem;
namespace {

void check_encoder(const FeatureModel& vgg) {
    if (vgg.architecture() != Architecture::Vgg19) {
        throw ConfigError(fmt::format("decoders invert VGG19; the weight set '{}' is a {}", vgg.info().name,
                                      architecture_name(vgg.architecture())));
    }
}

} // namespace

void check_training_inputs(const TrainDecoderOptions& options) {
    options.validate();
    train::check_model_output(options.common.output, options.common.checkpoint);
    train::list_training_images(options.common.data);
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

    bool calibrated = common.resume;
    train::TrainingHooks hooks;
    hooks.step = [&](std::int64_t /*step*/, const torch::Tensor& batch) {
        torch::Tensor target;
        {
            const torch::NoGradGuard no_grad;
            target = encode(batch);
        }
        if (!calibrated) {
            // A fresh decoder sees features of order one (a resumed one has its scale from the checkpoint).
            const double rms = target.to(torch::kFloat).pow(2).mean().sqrt().item<double>();
            decoder->set_input_scale(rms > 0 ? 1.0 / rms : 1.0);
            calibrated = true;
        }
        optimizer.zero_grad();
        const torch::Tensor decoded = decode(target);
        const torch::Tensor pixel = (decoded - batch).pow(2).mean() * options.pixel_weight;
        const torch::Tensor feature = nn::normalized_content_loss(encode(decoded), target) * options.feature_weight;
        const torch::Tensor total = pixel + feature;
        total.backward();
        optimizer.step();
        return std::map<std::string, double>{
            {"pixel", pixel.item<double>()}, {"feature", feature.item<double>()}, {"total", total.item<double>()}};
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
        card.iterations = summary.steps_done;
        card.images_seen = summary.images_seen;
        card.wall_seconds = summary.wall_seconds;
        card.hardware = train::hardware_description(vgg.device(), common.precision);
        card.final_losses = summary.final_losses;
        card.training_options = train::options_json(options);
        card.command = common.command;
        card.created_utc = train::utc_now_iso();
        card.impasto_version = IMPASTO_VERSION;
        write_style_model(common.output, file);
    };
    const nlohmann::json extra = {{"trainer", "decoder"},
                                  {"level", options.level},
                                  {"pixel_weight", options.pixel_weight},
                                  {"feature_weight", options.feature_weight},
                                  {"loss_network_sha256", vgg.info().sha256}};
    const std::string fingerprint = train::merge_json(train::data_fingerprint(common, files), extra.dump());
    return train::run_training(common, files, fingerprint, *decoder, optimizer, device, hooks, on_event);
}

} // namespace impasto
