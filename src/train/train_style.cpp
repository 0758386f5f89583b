// Training a transformer network (Johnson et al. 2016) for one style or several (conditional
// instance norm, Dumoulin et al. 2017), or adding styles to a trained one by training only the new
// styles' norm rows.
#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"
#include "impasto/version.h"
#include "io/sha256.h"
#include "nn/transformer_net.h"
#include "nn/vgg.h"
#include "train/checkpoint.h"
#include "train/image_folder_dataset.h"
#include "train/perceptual_loss.h"
#include "train/train_common.h"
#include "train/train_loop.h"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto {
namespace fs = std::filesystem;
namespace {

std::vector<Image> load_styles(const std::vector<fs::path>& files) {
    std::vector<Image> images;
    for (const fs::path& file : files) {
        try {
            images.push_back(load_image(file));
        } catch (const Error& e) {
            rethrow_with_context(InputError(e.what()), "style image");
        }
    }
    return images;
}

StyleModelFile read_base(const fs::path& file) {
    StyleModelFile base = read_style_model(file);
    if (base.kind != StyleModelKind::Transformer) {
        throw InputError(fmt::format("base model '{}' is a {} model; styles can only be added to a transformer",
                                     file.string(), to_string(base.kind)));
    }
    return base;
}

Image load_preview_content(const fs::path& file, int long_side) {
    try {
        return resize_long_side(load_image(file), long_side);
    } catch (const Error& e) {
        rethrow_with_context(InputError(e.what()), "preview content");
    }
}

// What a trainer needs beyond the options: the network, which of its style rows train, the names.
struct Network {
    nn::TransformerNet net{nullptr};
    int first_new = 0; // rows below this come from the base model and stay as they are
    std::vector<std::string> style_names;
    std::vector<StyleImageRecord> style_records;
    ModelCard base_card;
    std::string base_sha256;
};

// A committed model trained on, with all its parameters: it must be of the same styles, in order.
Network continue_network(const TrainStyleOptions& options, train::TrainingStart& start) {
    const StyleModelFile model = train::read_init_model(options.common, StyleModelKind::Transformer);
    Network network;
    network.net = nn::load_transformer_net(model, &network.style_names);
    network.net->train();
    const std::vector<StyleImageRecord>& records = model.card.style_images;
    bool same = records.size() == options.styles.size();
    for (std::size_t i = 0; same && i < records.size(); ++i) {
        same = records[i].sha256 == io::sha256_file_hex(options.styles[i]);
    }
    if (!same) {
        throw ConfigError(fmt::format("the model to continue, '{}', was trained on {} other style image(s); give "
                                      "the same --style images in the same order",
                                      options.common.init_model.string(), records.size()));
    }
    network.style_records = records;
    start = train::TrainingStart::from_card(model.card);
    return network;
}

Network build_network(const TrainStyleOptions& options, train::TrainingStart& start) {
    if (!options.common.init_model.empty()) {
        if (!options.base_model.empty()) {
            throw ConfigError("init_model and base_model: continue a model, or add styles to one, not both");
        }
        return continue_network(options, start);
    }
    Network network;
    if (options.base_model.empty()) {
        nn::TransformerNetConfig config;
        config.width = options.width;
        config.styles = static_cast<int>(options.styles.size());
        network.net = train::with_seeded_init(options.common.seed, [&] { return nn::TransformerNet(config); });
    } else {
        const StyleModelFile base = read_base(options.base_model);
        network.net = nn::load_transformer_net(base, &network.style_names);
        network.net->train();
        network.first_new = network.net->config().styles;
        network.style_records = base.card.style_images;
        network.style_records.resize(static_cast<std::size_t>(network.first_new));
        for (std::size_t i = 0; i < network.style_records.size(); ++i) {
            if (network.style_records[i].name.empty()) {
                network.style_records[i].name = network.style_names[i];
            }
        }
        network.base_card = base.card;
        network.base_sha256 = io::sha256_file_hex(options.base_model);
        network.net->add_styles(static_cast<int>(options.styles.size()));
    }
    for (const fs::path& style : options.styles) {
        // Names select styles at stylise time, so two "style.jpg" from different folders get "style_2".
        std::string name = style.stem().string();
        for (int n = 2;
             std::find(network.style_names.begin(), network.style_names.end(), name) != network.style_names.end();
             ++n) {
            name = fmt::format("{}_{}", style.stem().string(), n);
        }
        network.style_names.push_back(name);
        network.style_records.push_back({name, io::sha256_file_hex(style)});
    }
    return network;
}

std::string style_fingerprint(const TrainStyleOptions& options, const std::vector<fs::path>& files,
                              const FeatureModel& vgg, const Network& network) {
    std::vector<std::string> styles;
    for (std::size_t i = static_cast<std::size_t>(network.first_new); i < network.style_records.size(); ++i) {
        styles.push_back(network.style_records[i].sha256);
    }
    const nlohmann::json extra = {{"trainer", "transformer"},
                                  {"styles_sha256", styles},
                                  {"base_model_sha256", network.base_sha256},
                                  {"network", nlohmann::json::parse(network.net->config().to_json())},
                                  {"style_size", options.style_size},
                                  {"content_layers", options.content_layers},
                                  {"style_layers", options.style_layers},
                                  {"style_layer_weights", options.style_layer_weights},
                                  {"content_weight", options.content_weight},
                                  {"style_weight", options.style_weight},
                                  {"tv_weight", options.tv_weight},
                                  {"loss_network_sha256", vgg.info().sha256}};
    return train::merge_json(train::data_fingerprint(options.common, files), extra.dump());
}

} // namespace

void check_training_inputs(const TrainStyleOptions& options) {
    options.validate();
    train::check_model_output(options.common.output, options.common.checkpoint);
    train::list_training_images(options.common.data);
    load_styles(options.styles);
    if (!options.base_model.empty()) {
        read_base(options.base_model);
    }
    if (!options.common.init_model.empty()) {
        train::read_init_model(options.common, StyleModelKind::Transformer);
    }
    if (!options.common.preview_content.empty()) {
        load_preview_content(options.common.preview_content, 16);
    }
}

TrainResult train_style_network(const FeatureModel& vgg, const TrainStyleOptions& options,
                                const TrainCallback& on_event) {
    options.validate();
    const TrainCommonOptions& common = options.common;
    train::check_model_output(common.output, common.checkpoint);
    const std::vector<fs::path> files = train::list_training_images(common.data);
    const std::vector<Image> styles = load_styles(options.styles);
    const c10::ScalarType compute = train::training_compute_dtype(common.precision);
    const torch::Device device = nn::to_torch(vgg.device());
    const Image preview_content =
        common.preview_content.empty() ? Image{} : load_preview_content(common.preview_content, 2 * common.crop);

    train::TrainingStart start;
    Network network = build_network(options, start);
    nn::TransformerNet& net = network.net;
    net->to(device);
    const int total_styles = net->config().styles;
    const int new_styles = static_cast<int>(options.styles.size());
    std::vector<torch::Tensor> trained = net->parameters();
    std::vector<torch::Tensor> kept_rows; // the base model's norm rows, restored after every step
    if (network.first_new > 0) {
        for (torch::Tensor& p : net->parameters()) {
            p.requires_grad_(false);
        }
        trained = net->norm_parameters();
        for (torch::Tensor& table : trained) {
            table.requires_grad_(true);
            kept_rows.push_back(table.detach().narrow(0, 0, network.first_new).clone());
        }
    }
    torch::optim::Adam optimizer(trained, torch::optim::AdamOptions(common.learning_rate));

    train::PerceptualLossOptions loss_options;
    loss_options.content_layers = options.content_layers;
    loss_options.style_layers = options.style_layers;
    loss_options.style_layer_weights = options.style_layer_weights;
    loss_options.content_weight = options.content_weight;
    loss_options.style_weight = options.style_weight;
    loss_options.tv_weight = options.tv_weight;
    loss_options.style_size = options.style_size;
    loss_options.compute = compute;
    const train::PerceptualLoss loss(vgg, loss_options, styles);

    const auto one_hot = [&](int style) {
        return torch::one_hot(torch::tensor(style, torch::kLong), total_styles).to(device, torch::kFloat);
    };
    const auto stylise = [&](const torch::Tensor& input, int style) {
        const detail::AutocastGuard autocast(device.type(), compute);
        return net->forward(input, one_hot(style)).to(torch::kFloat);
    };

    train::StepProfiler profiler(common.profile, device);
    train::TrainingHooks hooks;
    hooks.profiler = &profiler;
    // One style per batch, cycling: every style sees every crop position statistics evenly, and
    // with a one-hot mix only that style's norm rows receive gradients.
    hooks.step = [&](std::int64_t step, const torch::Tensor& batch) {
        const int style = static_cast<int>(step % new_styles);
        optimizer.zero_grad();
        const torch::Tensor output = stylise(batch, network.first_new + style);
        profiler.mark("forward");
        const train::LossTerms terms = loss(output, batch, style);
        profiler.mark("loss");
        terms.total.backward();
        profiler.mark("backward");
        optimizer.step();
        profiler.mark("optimizer");
        if (!kept_rows.empty()) {
            // Adam's moments of the old rows stay zero, so this is a guard, not a correction.
            const torch::NoGradGuard no_grad;
            for (std::size_t i = 0; i < trained.size(); ++i) {
                trained[i].narrow(0, 0, network.first_new).copy_(kept_rows[i]);
            }
        }
        return terms.values();
    };
    hooks.preview = [&](std::int64_t done, const torch::Tensor& sample) {
        const torch::NoGradGuard no_grad;
        const torch::Tensor input = preview_content.empty() ? sample : detail::image_to_tensor(preview_content, device);
        const int style = network.first_new + static_cast<int>((done - 1) % new_styles);
        return detail::tensor_to_image(stylise(input, style));
    };
    hooks.write_model = [&](const train::RunSummary& summary) {
        ModelCard card;
        card.training_data = train::training_data_description(common.data, files.size());
        card.data_license = common.data_license;
        card.style_images = network.style_records;
        card.training_options = train::options_json(options);
        train::record_training(card, summary, common, vgg.device());
        if (network.first_new > 0) {
            card.notes = fmt::format("{} style(s) added to '{}' (sha256 {}; trained on {}) by training only their "
                                     "norm parameters; the counts above are of this addition",
                                     new_styles, options.base_model.filename().string(), network.base_sha256,
                                     network.base_card.training_data);
        }
        write_style_model(common.output, nn::make_transformer_model_file(*net, network.style_names, card));
    };
    const std::string fingerprint = style_fingerprint(options, files, vgg, network);
    return train::run_training(common, files, fingerprint, *net, optimizer, device, hooks, on_event, start);
}

} // namespace impasto
