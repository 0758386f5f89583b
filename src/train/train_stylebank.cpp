// Training a StyleBank network (Chen et al. 2017): T stylising steps (perceptual loss through one
// bank) alternate with one auto-encoder step (identity loss, encoder and decoder only); or adding
// banks to a trained one with everything else frozen (incremental learning, the paper's Sec. 4.3).
#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"
#include "io/sha256.h"
#include "nn/stylebank.h"
#include "nn/vgg.h"
#include "train/branch_optimizer.h"
#include "train/image_folder_dataset.h"
#include "train/perceptual_loss.h"
#include "train/train_common.h"
#include "train/train_loop.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto {
namespace fs = std::filesystem;
namespace {

void require(bool ok, const std::string& field, const std::string& value, const std::string& allowed) {
    if (!ok) {
        throw ConfigError(fmt::format("{} = {} is out of range; allowed: {}", field, value, allowed));
    }
}

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
    if (base.kind != StyleModelKind::StyleBank) {
        throw InputError(fmt::format("base model '{}' is a {} model; banks can only be added to a stylebank model",
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

// The network, which banks train, the style names and records.
struct Network {
    nn::StyleBankNet net{nullptr};
    int first_new = 0; // banks below this come from the base model and stay as they are
    std::vector<std::string> style_names;
    std::vector<StyleImageRecord> style_records;
    std::string base_sha256;
    ModelCard base_card;
};

void add_style_names(Network& network, const std::vector<fs::path>& styles) {
    for (const fs::path& style : styles) {
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
}

// A committed stylebank model trained on (a new stretch): all of it trains, on the same styles.
Network continue_network(const TrainStyleBankOptions& options, train::TrainingStart& start) {
    const StyleModelFile model = train::read_init_model(options.style.common, StyleModelKind::StyleBank);
    Network network;
    network.net = nn::load_stylebank_net(model, &network.style_names);
    const std::vector<StyleImageRecord>& records = model.card.style_images;
    bool same = records.size() == options.style.styles.size();
    for (std::size_t i = 0; same && i < records.size(); ++i) {
        same = records[i].sha256 == io::sha256_file_hex(options.style.styles[i]);
    }
    if (!same) {
        throw ConfigError(fmt::format("the model to continue, '{}', was trained on {} other style image(s); give "
                                      "the same --style images in the same order",
                                      options.style.common.init_model.string(), records.size()));
    }
    network.style_records = records;
    start = train::TrainingStart::from_card(model.card);
    return network;
}

Network build_network(const TrainStyleBankOptions& options, train::TrainingStart& start) {
    const TrainStyleOptions& style = options.style;
    if (!style.common.init_model.empty()) {
        return continue_network(options, start);
    }
    Network network;
    if (style.base_model.empty()) {
        nn::StyleBankConfig config;
        config.width = style.width;
        config.bank_layers = options.bank_layers;
        config.styles = static_cast<int>(style.styles.size());
        network.net = train::with_seeded_init(style.common.seed, [&] { return nn::StyleBankNet(config); });
    } else {
        const StyleModelFile base = read_base(style.base_model);
        network.net = nn::load_stylebank_net(base, &network.style_names);
        network.first_new = network.net->config().styles;
        network.style_records = base.card.style_images;
        network.style_records.resize(static_cast<std::size_t>(network.first_new));
        for (std::size_t i = 0; i < network.style_records.size(); ++i) {
            if (network.style_records[i].name.empty()) {
                network.style_records[i].name = network.style_names[i];
            }
        }
        network.base_sha256 = io::sha256_file_hex(style.base_model);
        network.base_card = base.card;
        const auto count = static_cast<int>(style.styles.size());
        train::with_seeded_init(style.common.seed, [&] {
            network.net->add_banks(count);
            return 0;
        });
    }
    add_style_names(network, style.styles);
    return network;
}

std::string stylebank_fingerprint(const TrainStyleBankOptions& options, const std::vector<fs::path>& files,
                                  const FeatureModel& vgg, const Network& network) {
    const TrainStyleOptions& o = options.style;
    std::vector<std::string> styles;
    for (std::size_t i = static_cast<std::size_t>(network.first_new); i < network.style_records.size(); ++i) {
        styles.push_back(network.style_records[i].sha256);
    }
    const nlohmann::json extra = {{"trainer", "stylebank"},
                                  {"styles_sha256", styles},
                                  {"base_model_sha256", network.base_sha256},
                                  {"network", nlohmann::json::parse(network.net->config().to_json())},
                                  {"style_size", o.style_size},
                                  {"content_layers", o.content_layers},
                                  {"style_layers", o.style_layers},
                                  {"style_layer_weights", o.style_layer_weights},
                                  {"content_weight", o.content_weight},
                                  {"style_weight", o.style_weight},
                                  {"tv_weight", o.tv_weight},
                                  {"stylise_steps", options.stylise_steps},
                                  {"identity_weight", options.identity_weight},
                                  {"loss_network_sha256", vgg.info().sha256}};
    return train::merge_json(train::data_fingerprint(o.common, files), extra.dump());
}

std::string stylebank_options_json(const TrainStyleBankOptions& options) {
    const nlohmann::json extra = {{"trainer", "stylebank"},
                                  {"bank_layers", options.bank_layers},
                                  {"stylise_steps", options.stylise_steps},
                                  {"identity_weight", options.identity_weight}};
    return train::merge_json(train::options_json(options.style), extra.dump());
}

// Which step of the (T+1)-cycle trains what: positions 0..T-1 stylise, position T is the
// auto-encoder's. Stylising steps take the styles in turn, so each bank trains as often as the others.
struct StepPlan {
    bool identity = false;
    int style = 0; // among the styles being trained
};

StepPlan plan_step(std::int64_t step, int stylise_steps, int styles, bool incremental) {
    if (incremental) {
        return {false, static_cast<int>(step % styles)};
    }
    const std::int64_t cycle = stylise_steps + 1;
    const std::int64_t position = step % cycle;
    if (position == stylise_steps) {
        return {true, 0};
    }
    const std::int64_t stylising_before = step / cycle * stylise_steps + position;
    return {false, static_cast<int>(stylising_before % styles)};
}

} // namespace

void TrainStyleBankOptions::validate() const {
    style.validate();
    require(bank_layers >= 1 && bank_layers <= nn::kMaxBankLayers, "bank_layers", std::to_string(bank_layers),
            fmt::format("1..{}", nn::kMaxBankLayers));
    require(stylise_steps >= 1 && stylise_steps <= 100, "stylise_steps", std::to_string(stylise_steps), "1..100");
    require(std::isfinite(identity_weight) && identity_weight > 0 && identity_weight <= 1e6, "identity_weight",
            fmt::format("{}", identity_weight), "(0, 1e6]");
    if (!style.base_model.empty() && !style.common.init_model.empty()) {
        throw ConfigError("init_model and base_model: continue a model, or add banks to one, not both");
    }
}

void check_training_inputs(const TrainStyleBankOptions& options) {
    options.validate();
    const TrainCommonOptions& common = options.style.common;
    train::check_model_output(common.output, common.checkpoint);
    train::list_training_images(common.data);
    load_styles(options.style.styles);
    if (!options.style.base_model.empty()) {
        read_base(options.style.base_model);
    }
    if (!common.init_model.empty()) {
        train::read_init_model(common, StyleModelKind::StyleBank);
    }
    if (!common.preview_content.empty()) {
        load_preview_content(common.preview_content, 16);
    }
}

TrainResult train_stylebank(const FeatureModel& vgg, const TrainStyleBankOptions& options,
                            const TrainCallback& on_event) {
    options.validate();
    const TrainStyleOptions& o = options.style;
    const TrainCommonOptions& common = o.common;
    train::check_model_output(common.output, common.checkpoint);
    const std::vector<fs::path> files = train::list_training_images(common.data);
    const std::vector<Image> styles = load_styles(o.styles);
    const c10::ScalarType compute = train::training_compute_dtype(common.precision);
    const torch::Device device = nn::to_torch(vgg.device());
    const Image preview_content =
        common.preview_content.empty() ? Image{} : load_preview_content(common.preview_content, 2 * common.crop);

    train::TrainingStart start;
    Network network = build_network(options, start);
    nn::StyleBankNet& net = network.net;
    net->to(device);
    net->train();
    const bool incremental = network.first_new > 0;
    const int new_styles = static_cast<int>(o.styles.size());
    std::vector<torch::Tensor> trained = net->parameters();
    if (incremental) {
        // Frozen: the auto-encoder (its norms too) and the old banks. Only the new banks train.
        for (torch::Tensor& p : net->parameters()) {
            p.requires_grad_(false);
        }
        trained.clear();
        for (int i = network.first_new; i < net->config().styles; ++i) {
            for (torch::Tensor& p : net->bank_parameters(i)) {
                p.requires_grad_(true);
                trained.push_back(p);
            }
        }
    }
    train::BranchOptimizer optimizer(
        trained, incremental ? std::vector<torch::Tensor>{} : net->autoencoder_parameters(), common.learning_rate);

    train::PerceptualLossOptions loss_options;
    loss_options.content_layers = o.content_layers;
    loss_options.style_layers = o.style_layers;
    loss_options.style_layer_weights = o.style_layer_weights;
    loss_options.content_weight = o.content_weight;
    loss_options.style_weight = o.style_weight;
    loss_options.tv_weight = o.tv_weight;
    loss_options.style_size = o.style_size;
    loss_options.compute = compute;
    const train::PerceptualLoss loss(vgg, loss_options, styles);

    const auto stylise = [&](const torch::Tensor& input, int bank) {
        const detail::AutocastGuard autocast(device.type(), compute);
        return net->stylise(input, bank).to(torch::kFloat);
    };
    const auto identity_loss = [&](const torch::Tensor& batch) {
        torch::Tensor output;
        {
            const detail::AutocastGuard autocast(device.type(), compute);
            output = net->reconstruct(batch).to(torch::kFloat);
        }
        return torch::mse_loss(output, batch) * options.identity_weight;
    };

    // Each branch updates its own terms; every step reports the latest value of each, so that the
    // averages between events are of the same number of steps for every term.
    std::map<std::string, double> latest;
    const auto set_total = [&] {
        latest["total"] = latest["content"] + latest["style"] + latest["tv"] + (incremental ? 0.0 : latest["identity"]);
    };
    const auto stylise_terms = [&](const torch::Tensor& batch, int style) {
        const train::LossTerms terms = loss(stylise(batch, network.first_new + style), batch, style);
        for (const auto& [name, value] : terms.values()) {
            if (name != "total") {
                latest[name] = value;
            }
        }
        return terms.total;
    };

    train::StepProfiler profiler(common.profile, device);
    train::TrainingHooks hooks;
    hooks.profiler = &profiler;
    hooks.step = [&](std::int64_t step, const torch::Tensor& batch) {
        const StepPlan plan = plan_step(step, options.stylise_steps, new_styles, incremental);
        // Gradients to none, not zero: the banks this step does not use get none, and Adam leaves
        // parameters without a gradient alone (zeros would still move them by their momentum).
        for (torch::Tensor& p : trained) {
            p.mutable_grad() = torch::Tensor();
        }
        optimizer.select_identity_branch(plan.identity);
        torch::Tensor total;
        if (plan.identity) {
            total = identity_loss(batch);
            latest["identity"] = total.item<double>();
        } else {
            total = stylise_terms(batch, plan.style);
        }
        profiler.mark("forward");
        total.backward();
        profiler.mark("backward");
        optimizer.step();
        profiler.mark("optimizer");
        // The first step of a session reports the other branch too, measured without training.
        const torch::NoGradGuard no_grad;
        if (!incremental && latest.count("identity") == 0) {
            latest["identity"] = identity_loss(batch).item<double>();
        }
        if (latest.count("style") == 0) {
            stylise_terms(batch, plan_step(step + 1, options.stylise_steps, new_styles, incremental).style);
        }
        set_total();
        return latest;
    };
    hooks.preview = [&](std::int64_t done, const torch::Tensor& sample) {
        const torch::NoGradGuard no_grad;
        const torch::Tensor input = preview_content.empty() ? sample : detail::image_to_tensor(preview_content, device);
        const int bank = network.first_new + static_cast<int>((done - 1) % new_styles);
        return detail::tensor_to_image(stylise(input, bank));
    };
    hooks.write_model = [&](const train::RunSummary& summary) {
        ModelCard card;
        card.training_data = train::training_data_description(common.data, files.size());
        card.data_license = common.data_license;
        card.style_images = network.style_records;
        card.training_options = stylebank_options_json(options);
        train::record_training(card, summary, common, vgg.device());
        if (incremental) {
            card.notes = fmt::format("{} bank(s) added to '{}' (sha256 {}; trained on {}) with the auto-encoder and "
                                     "the other banks frozen; the counts above are of this addition",
                                     new_styles, o.base_model.filename().string(), network.base_sha256,
                                     network.base_card.training_data);
        }
        write_style_model(common.output, nn::make_stylebank_model_file(*net, network.style_names, card));
    };
    const std::string fingerprint = stylebank_fingerprint(options, files, vgg, network);
    return train::run_training(common, files, fingerprint, *net, optimizer, device, hooks, on_event, start);
}

} // namespace impasto
