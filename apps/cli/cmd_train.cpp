// `impasto train style|decoder`: training the feed-forward models from the command line, with a
// progress bar, previews, checkpoints, Ctrl-C that saves, and --resume.
#include "cli_common.h"
#include "commands.h"
#include "impasto/error.h"
#include "impasto/train.h"
#include "impasto/weights.h"
#include "interrupt.h"
#include "train_progress.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <memory>
#include <sstream>

namespace impasto::cli {
namespace {
namespace fs = std::filesystem;

// What is not a field of the options structs: paths as text, the run's machine settings.
struct TrainArgs {
    std::vector<std::string> data;
    std::string output;
    std::string checkpoint;
    std::string preview_dir;
    std::string preview_content;
    std::string init_model;
    std::string schedule;
    std::string data_license;
    std::string precision = "auto";
    std::string device = "auto";
    int threads = 0;
    std::string weights = kDefaultWeightSet;
    bool quiet = false;
};

std::string num(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

std::string with_default(const std::string& help, const std::string& value) {
    return help + " [default: " + value + "]";
}

std::string join(const std::vector<std::string>& items) {
    return fmt::format("{}", fmt::join(items, ","));
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// BSDS500 may be used for research only; a model trained on it should say so.
std::string default_data_license(const std::vector<std::string>& data) {
    for (const std::string& folder : data) {
        if (lower(folder).find("bsds500") != std::string::npos) {
            return "BSDS500 (Berkeley Segmentation Dataset): for research use only, see its README";
        }
    }
    return "unspecified";
}

// Everything both subcommands share; `common` lives in the options struct bound by the caller.
void add_common_options(CLI::App* cmd, TrainArgs& args, TrainCommonOptions& common) {
    const TrainCommonOptions def;
    cmd->add_option("--data", args.data, "Folders of training photos, searched recursively (repeatable)")->required();
    cmd->add_option("-o,--output", args.output, "The model file to write (.impasto)")->required();
    cmd->add_option("--steps", common.steps,
                    with_default("Optimiser steps in all, counted across resumes", std::to_string(def.steps)));
    cmd->add_option("--batch", common.batch, with_default("Crops per step", std::to_string(def.batch)));
    cmd->add_option("--crop", common.crop,
                    with_default("Side of the square training crops in pixels", std::to_string(def.crop)));
    cmd->add_option("--lr", common.learning_rate, with_default("Adam learning rate", num(def.learning_rate)));
    cmd->add_option("--lr-schedule", args.schedule,
                    with_default("Learning rate over each run: cosine (a short warm-up, then a cosine fall to "
                                 "--lr-final x --lr) or constant",
                                 to_string(def.schedule)));
    cmd->add_option(
        "--lr-final", common.final_learning_rate_fraction,
        with_default("The cosine schedule's last rate, as a fraction of --lr", num(def.final_learning_rate_fraction)));
    cmd->add_option("--seed", common.seed,
                    with_default("Seed of the initial weights and the crop sequence", std::to_string(def.seed)));
    cmd->add_flag("--resume", common.resume,
                  "Continue from the checkpoint (the options must be those it was made with)");
    cmd->add_option("--init", args.init_model,
                    "Train on from this committed model (a new stretch: its steps and time carry on, --steps counts "
                    "from them, the optimiser restarts); the output may be the same file");
    cmd->add_option("--color-jitter", common.color_jitter,
                    with_default("Probability that a crop gets its channels permuted and its saturation scaled",
                                 num(common.color_jitter)));
    cmd->add_flag("--profile", common.profile, "Show the seconds per step of each part (data, forward, loss, ...)");
    cmd->add_option("--checkpoint", args.checkpoint, "Checkpoint file [default: OUTPUT.ckpt]");
    cmd->add_option("--checkpoint-every", common.checkpoint_every,
                    with_default("Steps between checkpoints; 0 = only at the end and on interruption",
                                 std::to_string(def.checkpoint_every)));
    cmd->add_option("--preview-every", common.preview_every,
                    with_default("Steps between preview images; 0 = none", std::to_string(def.preview_every)));
    cmd->add_option("--preview-dir", args.preview_dir, "Folder for previews [default: the output's folder]");
    cmd->add_option("--preview-content", args.preview_content, "Photo for previews [default: a fixed training crop]");
    cmd->add_option("--loader-threads", common.loader_threads,
                    with_default("Threads decoding and cropping photos", std::to_string(def.loader_threads)));
    cmd->add_option("--data-license", args.data_license,
                    "Licence of the training data, for the model card [default: the BSDS500 research-only notice "
                    "when a --data path names bsds500, else 'unspecified']");
    cmd->add_option("--precision", args.precision,
                    "auto (bf16 on CPUs with AVX512_BF16/AMX and on CUDA, else fp32), fp32 or bf16")
        ->capture_default_str();
    cmd->add_option("--device", args.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", args.threads, "CPU threads; 0 = every core")->capture_default_str();
    cmd->add_option("--weights", args.weights, "Loss network weight set (see `impasto weights status`)")
        ->capture_default_str();
    cmd->add_flag("-q,--quiet", args.quiet, "No progress output");
}

// Fills the common options from the text arguments; the numbers were bound directly.
void finish_common(const TrainArgs& args, TrainCommonOptions& common) {
    common.data.assign(args.data.begin(), args.data.end());
    common.output = args.output;
    common.checkpoint = args.checkpoint;
    common.preview_content = args.preview_content;
    common.init_model = args.init_model;
    if (!args.schedule.empty()) {
        common.schedule = parse_learning_rate_schedule(args.schedule);
    }
    common.data_license = args.data_license.empty() ? default_data_license(args.data) : args.data_license;
    common.command = joined_command_line();
}

fs::path preview_file(const TrainArgs& args, int step) {
    const fs::path output(args.output);
    const fs::path folder = args.preview_dir.empty() ? output.parent_path() : fs::path(args.preview_dir);
    return folder / fmt::format("{}.step{:06}.png", output.stem().string(), step);
}

TrainCommonOptions& common_of(TrainStyleOptions& options) {
    return options.common;
}
TrainCommonOptions& common_of(TrainDecoderOptions& options) {
    return options.common;
}
TrainCommonOptions& common_of(TrainStyleBankOptions& options) {
    return options.style.common;
}

// Resolves the machine settings, loads the loss network, trains with progress and Ctrl-C.
template <class Options, class Train>
void run_training_command(const TrainArgs& args, Options& options, CliState& state, Train train) {
    const Device device = resolve_device(args.device);
    common_of(options).precision = resolve_precision(args.precision, device);
    set_num_threads(resolve_threads(args.threads));
    if (!args.preview_dir.empty() && !fs::is_directory(args.preview_dir)) {
        throw OutputError(fmt::format("preview folder '{}' does not exist", args.preview_dir));
    }
    check_training_inputs(options); // before the weights load: mistakes first
    const auto model = load_model(state, args.weights, device);

    install_interrupt_handlers();
    TrainProgress progress(!args.quiet);
    const auto on_event = [&](const TrainEvent& event) {
        progress.update(event);
        if (event.preview != nullptr) {
            save_image(*event.preview, preview_file(args, event.step));
        }
        return !interrupt_requested();
    };
    const TrainResult result = train(*model, options, on_event);
    progress.finish();
    if (result.cancelled) {
        std::fprintf(stderr,
                     "interrupted at step %d/%d; wrote %s and its checkpoint; run the same command with --resume "
                     "to continue\n",
                     result.steps_done, common_of(options).steps, args.output.c_str());
        state.exit_code = 130;
        return;
    }
    if (!args.quiet) {
        const auto total = result.final_losses.find("total");
        std::fprintf(stderr, "wrote %s (%d steps, %.1f s of training, final loss %.4g)\n", args.output.c_str(),
                     result.steps_done, result.wall_seconds, total == result.final_losses.end() ? 0.0 : total->second);
    }
}

// The perceptual loss of the style trainers (transformer, StyleBank).
void add_perceptual_loss_options(CLI::App* cmd, TrainStyleOptions& options) {
    const TrainStyleOptions def;
    cmd->add_option(
        "--style-size", options.style_size,
        with_default("Long side of the style images for their Gram targets", std::to_string(def.style_size)));
    cmd->add_option("--content-layers", options.content_layers,
                    with_default("Content layers", join(def.content_layers)))
        ->delimiter(',');
    cmd->add_option("--style-layers", options.style_layers, with_default("Style layers", join(def.style_layers)))
        ->delimiter(',');
    cmd->add_option("--style-layer-weights", options.style_layer_weights,
                    "Per-layer style weights, one per style layer [default: equal]")
        ->delimiter(',');
    cmd->add_option("--content-weight", options.content_weight,
                    with_default("Content weight (normalised loss)", num(def.content_weight)));
    cmd->add_option("--style-weight", options.style_weight,
                    with_default("Style weight (normalised loss)", num(def.style_weight)));
    cmd->add_option("--tv-weight", options.tv_weight,
                    with_default("Total-variation weight (mean squared neighbour difference)", num(def.tv_weight)));
}

void setup_train_style(CLI::App* train, CliState& state) {
    auto args = std::make_shared<TrainArgs>();
    auto options = std::make_shared<TrainStyleOptions>();
    auto styles = std::make_shared<std::vector<std::string>>();
    auto base = std::make_shared<std::string>();
    const TrainStyleOptions def;
    CLI::App* cmd = train->add_subcommand(
        "style", "Train a transformer network for one style, or several (conditional instance norm)");
    cmd->add_option("--style", *styles, "Style image (repeat for several styles)")->required();
    add_common_options(cmd, *args, options->common);
    cmd->add_option("--width", options->width,
                    with_default("Width multiplier (1 = Johnson's 32/64/128 channels)", num(def.width)));
    cmd->add_option("--base", *base,
                    "Add the styles to this trained model: only the new styles' norm parameters train");
    add_perceptual_loss_options(cmd, *options);
    cmd->callback([args, options, styles, base, &state] {
        finish_common(*args, options->common);
        options->styles.assign(styles->begin(), styles->end());
        options->base_model = *base;
        run_training_command(*args, *options, state,
                             [](const FeatureModel& vgg, const TrainStyleOptions& o, const TrainCallback& on_event) {
                                 return train_style_network(vgg, o, on_event);
                             });
    });
}

void setup_train_decoder(CLI::App* train, CliState& state) {
    auto args = std::make_shared<TrainArgs>();
    auto options = std::make_shared<TrainDecoderOptions>();
    const TrainDecoderOptions def;
    CLI::App* cmd = train->add_subcommand("decoder", "Train a decoder inverting VGG19 at one layer (for AdaIN/WCT)");
    cmd->add_option("--level", options->level,
                    with_default("The layer to invert: relu1_1, relu2_1, relu3_1, relu4_1 or relu5_1", def.level));
    add_common_options(cmd, *args, options->common);
    cmd->add_option("--pixel-weight", options->pixel_weight,
                    with_default("Weight of the mean squared pixel error", num(def.pixel_weight)));
    cmd->add_option("--feature-weight", options->feature_weight,
                    with_default("Weight of the normalised feature error at the level", num(def.feature_weight)));
    auto tail = std::make_shared<std::string>();
    cmd->add_option("--tail", *tail,
                    "Start the layers after the first block from this decoder of the level one block shallower");
    auto style_data = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--style-data", *style_data,
                    "Folders of paintings: add AdaIN's own objective (Huang & Belongie 2017), the content and style "
                    "loss of the decoded AdaIN(photo, painting), to the reconstruction [default: none, "
                    "reconstruction only]");
    cmd->add_option("--adain-weight", options->adain_weight,
                    with_default("--style-data: weight of the AdaIN objective", num(def.adain_weight)));
    cmd->add_option("--adain-style-weight", options->adain_style_weight,
                    with_default("--style-data: its style term (mean and std at relu1_1..level) against its content "
                                 "term",
                                 num(def.adain_style_weight)));
    cmd->add_option("--style-long-side", options->style_long_side,
                    with_default("--style-data: long side the paintings are cropped at (--style-size at inference)",
                                 std::to_string(def.style_long_side)));
    cmd->callback([args, options, tail, style_data, &state] {
        finish_common(*args, options->common);
        options->tail_model = *tail;
        options->style_data.assign(style_data->begin(), style_data->end());
        run_training_command(*args, *options, state,
                             [](const FeatureModel& vgg, const TrainDecoderOptions& o, const TrainCallback& on_event) {
                                 return train_decoder(vgg, o, on_event);
                             });
    });
}

} // namespace

void setup_train_stylebank(CLI::App* train, CliState& state) {
    auto args = std::make_shared<TrainArgs>();
    auto options = std::make_shared<TrainStyleBankOptions>();
    auto styles = std::make_shared<std::vector<std::string>>();
    auto base = std::make_shared<std::string>();
    const TrainStyleBankOptions def;
    CLI::App* cmd = train->add_subcommand(
        "stylebank", "Train a StyleBank network (Chen et al. 2017): a shared auto-encoder and one filter bank per "
                     "style; with --base, add banks to a trained one");
    cmd->add_option("--style", *styles, "Style image, one bank each (repeat for several styles)")->required();
    add_common_options(cmd, *args, options->style.common);
    cmd->add_option(
        "--width", options->style.width,
        with_default("Width multiplier of the auto-encoder and banks (1 = 32/64/128 channels)", num(def.style.width)));
    cmd->add_option("--bank-layers", options->bank_layers,
                    with_default("3x3 convolutions per bank (each with instance norm and ReLU), 1..8",
                                 std::to_string(def.bank_layers)));
    cmd->add_option("--stylise-steps", options->stylise_steps,
                    with_default("T: stylising steps per auto-encoder step", std::to_string(def.stylise_steps)));
    cmd->add_option("--identity-weight", options->identity_weight,
                    with_default("Weight of the auto-encoder's mean squared error", num(def.identity_weight)));
    cmd->add_option("--base", *base,
                    "Add banks for the styles to this trained stylebank model: only the new banks train (the "
                    "auto-encoder and the other banks stay as they are); its width and bank layers apply");
    add_perceptual_loss_options(cmd, options->style);
    cmd->callback([args, options, styles, base, &state] {
        finish_common(*args, options->style.common);
        options->style.styles.assign(styles->begin(), styles->end());
        options->style.base_model = *base;
        run_training_command(*args, *options, state,
                             [](const FeatureModel& vgg, const TrainStyleBankOptions& o,
                                const TrainCallback& on_event) { return train_stylebank(vgg, o, on_event); });
    });
}

void setup_train(CLI::App& app, CliState& state) {
    CLI::App* train =
        app.add_subcommand("train", "Train feed-forward models: style networks, StyleBank networks and decoders");
    train->require_subcommand(1);
    setup_train_style(train, state);
    setup_train_decoder(train, state);
    setup_train_stylebank(train, state);
}

} // namespace impasto::cli
