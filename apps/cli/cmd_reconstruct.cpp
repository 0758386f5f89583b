// `impasto reconstruct content|style|features IMAGE -o OUT`: what each VGG layer captures
// (Gatys, Ecker & Bethge 2016, Fig. 1).
#include "cli_common.h"
#include "commands.h"
#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "impasto/reconstruct.h"
#include "impasto/run_record.h"
#include "interrupt.h"
#include "progress_display.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace impasto::cli {
namespace {

namespace fs = std::filesystem;

struct ReconstructArgs {
    std::string image;
    std::string output;
    std::vector<std::string> layers = figure1_content_layers(); // content
    std::vector<std::string> sets{"growing"};                   // style
    std::string layer = "relu3_1";                              // features
    int count = 16;
    ReconstructOptions options;
    std::string pooling = to_string(ReconstructOptions{}.pooling);
    std::string loss_scaling = to_string(ReconstructOptions{}.loss_scaling);
    std::string precision = to_string(ReconstructOptions{}.precision);
    std::string device = "auto";
    int threads = 0;
    std::string weights = kDefaultWeightSet;
    bool quiet = false;
};

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string text;
    for (const std::string& item : items) {
        text += (text.empty() ? "" : separator) + item;
    }
    return text;
}

// Each entry is one reconstruction of up to --iterations evaluations.
void check_job_count(std::size_t count, const char* option) {
    if (count > static_cast<std::size_t>(kMaxLayerEntries)) {
        throw ConfigError(fmt::format("{} has {} entries; allowed: 1..{}", option, count, kMaxLayerEntries));
    }
}

// "growing" -> the sets of Fig. 1; otherwise each item is one set, its layers joined by '+'.
std::vector<std::vector<std::string>> parse_sets(const std::vector<std::string>& items) {
    if (items.size() == 1 && items.front() == "growing") {
        return figure1_style_layer_sets();
    }
    std::vector<std::vector<std::string>> sets;
    for (const std::string& item : items) {
        std::vector<std::string> set;
        std::istringstream in(item);
        std::string name;
        while (std::getline(in, name, '+')) {
            set.push_back(name);
        }
        if (set.empty() || std::find(set.begin(), set.end(), "") != set.end()) {
            throw ConfigError("style layer set '" + item +
                              "' is not LAYER+LAYER+... (e.g. relu1_1+relu2_1) or growing");
        }
        check_layer_names(set, "--sets");
        sets.push_back(std::move(set));
    }
    if (sets.empty()) {
        throw ConfigError("--sets is empty; give 'growing' or sets like relu1_1,relu1_1+relu2_1");
    }
    return sets;
}

Image load_input(const std::string& file, const char* role, std::int64_t max_pixels) {
    try {
        return load_image(file, decode_limits(max_pixels));
    } catch (const Error& e) {
        rethrow_with_context(InputError(e.what()), role);
    }
}

ReconstructOptions resolve_options(const ReconstructArgs& args, const Device& device) {
    ReconstructOptions options = args.options;
    options.pooling = parse_pooling(args.pooling);
    options.loss_scaling = parse_loss_scaling(args.loss_scaling);
    options.precision = resolve_precision(args.precision, device);
    if (options.precision == Precision::Fp16 && device.kind == DeviceKind::Cpu) {
        throw ConfigError("precision fp16 needs a CUDA device; on CPU use bf16 or fp32");
    }
    options.validate();
    return options;
}

// The output folder may be missing if its parent exists: it is created once the inputs and the
// weights have loaded, so that a bad input leaves nothing behind.
void check_output_dir(const fs::path& dir) {
    std::error_code ec;
    const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
    if (!fs::is_directory(dir, ec) && !fs::is_directory(parent, ec)) {
        throw OutputError(
            fmt::format("output folder '{}' cannot be created: '{}' is not a folder", dir.string(), parent.string()));
    }
}

void create_output_dir(const fs::path& dir, const std::vector<fs::path>& outputs, const fs::path& input) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec) && (!fs::create_directory(dir, ec) || ec)) {
        throw OutputError(fmt::format("output folder '{}' cannot be created: {}", dir.string(), ec.message()));
    }
    for (const fs::path& file : outputs) {
        check_output_path(file, {input});
    }
}

struct Job {
    std::string label;               // "relu3_2" or "relu1_1+relu2_1"
    std::vector<std::string> layers; // one for content, the set for style
    fs::path output;
};

// Runs every job in order, saving each image with its sidecar. Returns 130 after an interruption
// (the image in flight is saved, marked interrupted), else 0.
int run_jobs(const ReconstructArgs& args, const CliState& state, const std::string& kind,
             const std::vector<Job>& jobs) {
    check_output_dir(args.output);
    const Image input =
        load_input(args.image, kind == "content" ? "content image" : "style image", args.options.max_pixels);
    const Device device = resolve_device(args.device);
    const ReconstructOptions options = resolve_options(args, device);
    const int threads = resolve_threads(args.threads);
    set_num_threads(threads);
    const auto model = load_model(state, args.weights, device);
    std::vector<fs::path> outputs;
    for (const Job& job : jobs) {
        outputs.push_back(job.output);
    }
    create_output_dir(args.output, outputs, args.image);

    install_interrupt_handlers();
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const Job& job = jobs[i];
        if (!args.quiet) {
            std::fprintf(stderr, "%s reconstruction %zu/%zu: %s\n", kind.c_str(), i + 1, jobs.size(),
                         job.label.c_str());
        }
        ProgressDisplay display(!args.quiet);
        const auto on_progress = [&](const ProgressEvent& event) {
            display.update(event);
            return !interrupt_requested();
        };
        const auto start = std::chrono::steady_clock::now();
        const StylizeResult result = kind == "content"
                                         ? reconstruct_content(*model, input, job.layers.front(), options, on_progress)
                                         : reconstruct_style(*model, input, job.layers, options, on_progress);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        display.finish();
        if (result.image.empty() || result.history.empty()) {
            return 130; // interrupted before the first evaluation: nothing worth saving
        }

        RunRecord record;
        record.status = result.cancelled ? "interrupted" : "complete";
        record.command_line = joined_command_line();
        record.content = args.image;
        if (kind == "style") {
            record.styles = {args.image};
            record.style_blend = {1.0};
        }
        record.output = job.output;
        record.options = kind == "content" ? content_reconstruction_options(job.layers.front(), options)
                                           : style_reconstruction_options(job.layers, options);
        record.weights = model->info();
        record.device = device;
        record.threads = threads;
        record.total_seconds = seconds;
        record.peak_memory_bytes = peak_rss_bytes();
        record.result = &result;
        nlohmann::json sidecar = nlohmann::json::parse(run_record_json(record));
        const double initial = result.history.front().losses.total;
        const double reached = final_loss(result, options);
        sidecar["reconstruction"] = {{"kind", kind},
                                     {"layers", job.layers},
                                     {"initial_loss", initial},
                                     {"final_loss", reached},
                                     {"seconds", seconds}};
        save_image(result.image, job.output);
        write_file_atomic(sidecar_path(job.output), sidecar.dump(2) + "\n");
        if (!args.quiet) {
            std::fprintf(stderr, "%s %s (%dx%d, %d iterations, loss %.4g -> %.4g, %.1f s)\n",
                         result.cancelled ? "interrupted; saved" : "wrote", job.output.string().c_str(), result.width,
                         result.height, result.iterations_done, initial, reached, seconds);
        }
        if (result.cancelled) {
            return 130;
        }
    }
    return 0;
}

void run_content(const ReconstructArgs& args, CliState& state) {
    if (args.layers.empty()) {
        throw ConfigError("--layers is empty; give at least one layer (see `impasto layers`)");
    }
    check_layer_names(args.layers, "--layers");
    check_job_count(args.layers.size(), "--layers");
    std::vector<Job> jobs;
    for (const std::string& layer : args.layers) {
        jobs.push_back({layer, {layer}, fs::path(args.output) / ("content_" + layer + ".png")});
    }
    state.exit_code = run_jobs(args, state, "content", jobs);
}

void run_style(const ReconstructArgs& args, CliState& state) {
    const std::vector<std::vector<std::string>> sets = parse_sets(args.sets);
    check_job_count(sets.size(), "--sets");
    std::vector<Job> jobs;
    for (std::size_t i = 0; i < sets.size(); ++i) {
        jobs.push_back({layer_set_label(sets[i]), sets[i], fs::path(args.output) / fmt::format("style_{}.png", i + 1)});
    }
    state.exit_code = run_jobs(args, state, "style", jobs);
}

void run_features(const ReconstructArgs& args, const CliState& state) {
    check_layer_names({args.layer}, "--layer");
    check_output_path(args.output, {args.image});
    const Image input = load_input(args.image, "image", args.options.max_pixels);
    const Device device = resolve_device(args.device);
    set_num_threads(resolve_threads(args.threads));
    const Pooling pooling = parse_pooling(args.pooling);
    const auto model = load_model(state, args.weights, device);
    const FeatureMaps maps =
        feature_maps(*model, input, args.layer, args.count, args.options.size, pooling, args.options.max_pixels);
    nlohmann::json channels = nlohmann::json::array();
    for (std::size_t i = 0; i < maps.channels.size(); ++i) {
        channels.push_back({{"channel", maps.channels[i]}, {"mean_activation", maps.mean_activation[i]}});
    }
    const nlohmann::json sidecar{{"tool", "impasto"},
                                 {"command_line", joined_command_line()},
                                 {"image", args.image},
                                 {"layer", args.layer},
                                 {"size", args.options.size},
                                 {"pooling", to_string(pooling)},
                                 {"weights", {{"name", model->info().name}, {"sha256", model->info().sha256}}},
                                 {"map_width", maps.map_width},
                                 {"map_height", maps.map_height},
                                 {"columns", maps.columns},
                                 {"rows", maps.rows},
                                 {"channels", channels}};
    save_image(maps.grid, args.output);
    write_file_atomic(sidecar_path(args.output), sidecar.dump(2) + "\n");
    if (!args.quiet) {
        std::fprintf(stderr, "wrote %s (%d most active of %s, %dx%d maps, %dx%d grid)\n", args.output.c_str(),
                     args.count, args.layer.c_str(), maps.map_width, maps.map_height, maps.columns, maps.rows);
    }
}

// Options every reconstruction subcommand shares.
void add_common(CLI::App* cmd, ReconstructArgs& args, bool optimises) {
    const ReconstructOptions def;
    cmd->add_option("--size", args.options.size, "Long side in pixels")->capture_default_str();
    cmd->add_option("--pooling", args.pooling, "max or avg (the paper's figures use avg)")->capture_default_str();
    if (optimises) {
        cmd->add_option("--iterations", args.options.iterations,
                        "Objective evaluations (L-BFGS steps and line-search evaluations)")
            ->capture_default_str();
        cmd->add_option("--seed", args.options.seed, "Seed of the white-noise start")->capture_default_str();
        cmd->add_option("--loss-scaling", args.loss_scaling, "paper (eq. 1 and 3 as written) or normalized")
            ->capture_default_str();
        cmd->add_flag("--line-search,!--no-line-search", args.options.line_search,
                      fmt::format("Strong-Wolfe line search for L-BFGS [default: {}]", def.line_search ? "on" : "off"));
        cmd->add_option("--lbfgs-history", args.options.lbfgs_history, "L-BFGS history size")->capture_default_str();
        cmd->add_option("--precision", args.precision, "fp32, bf16, fp16 (CUDA) or auto")->capture_default_str();
        cmd->add_flag("-q,--quiet", args.quiet, "No progress output");
    } else {
        cmd->add_flag("-q,--quiet", args.quiet, "No summary line");
    }
    cmd->add_option("--device", args.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", args.threads, "CPU threads; 0 = every core")->capture_default_str();
    cmd->add_option("--weights", args.weights, "Weight set (see `impasto weights status`)")->capture_default_str();
    cmd->add_option("--max-pixels", args.options.max_pixels, max_pixels_help("and of the reconstructed image"));
}

} // namespace

void setup_reconstruct(CLI::App& app, CliState& state) {
    CLI::App* cmd = app.add_subcommand("reconstruct",
                                       "What each VGG layer captures: reconstructions from noise (Gatys 2016 Fig. 1)");
    cmd->require_subcommand(1);

    auto content = std::make_shared<ReconstructArgs>();
    CLI::App* c = cmd->add_subcommand(
        "content", "Match one layer's features of IMAGE (eq. 1 only) from white noise: DIR/content_<layer>.png");
    c->add_option("image", content->image, "Content photo")->required();
    c->add_option("-o,--output", content->output, "Output folder (created if its parent exists)")->required();
    c->add_option("--layers", content->layers, "One reconstruction per layer (see `impasto layers`)")
        ->delimiter(',')
        ->default_str(join(figure1_content_layers(), ","));
    add_common(c, *content, true);
    c->callback([content, &state] { run_content(*content, state); });

    auto style = std::make_shared<ReconstructArgs>();
    CLI::App* s = cmd->add_subcommand(
        "style", "Match IMAGE's Gram matrices (eq. 3 only) over sets of layers from white noise: DIR/style_<k>.png");
    s->add_option("image", style->image, "Style image (the output keeps its aspect ratio)")->required();
    s->add_option("-o,--output", style->output, "Output folder (created if its parent exists)")->required();
    s->add_option("--sets", style->sets,
                  "Layer sets, comma-separated, layers in a set joined by '+' (relu1_1,relu1_1+relu2_1); 'growing' = "
                  "relu1_1; +relu2_1; ... +relu5_1")
        ->delimiter(',')
        ->default_str("growing");
    add_common(s, *style, true);
    s->callback([style, &state] { run_style(*style, state); });

    auto features = std::make_shared<ReconstructArgs>();
    CLI::App* f = cmd->add_subcommand("features", "Tile the most active feature maps of one layer for IMAGE");
    f->add_option("image", features->image, "Input image")->required();
    f->add_option("-o,--output", features->output, "Output image; format from the extension")->required();
    f->add_option("--layer", features->layer, "Layer (see `impasto layers`)")->capture_default_str();
    f->add_option("--count", features->count, "Number of channels, most active first")->capture_default_str();
    add_common(f, *features, false);
    f->callback([features, &state] { run_features(*features, state); });
}

} // namespace impasto::cli
