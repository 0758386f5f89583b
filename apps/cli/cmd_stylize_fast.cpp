// `impasto stylize --model M CONTENT -o OUT` and `impasto stylize --method adain|wct CONTENT STYLE -o OUT`:
// one pass through a trained network, for a photo or a folder of photos.
#include "cli_common.h"
#include "impasto/arbitrary_style.h"
#include "impasto/atomic_file.h"
#include "impasto/batch.h"
#include "impasto/error.h"
#include "impasto/fast_style.h"
#include "impasto/run_record.h"
#include "impasto/version.h"
#include "interrupt.h"
#include "stylize_fast_cli.h"

#include <chrono>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <memory>
#include <nlohmann/json.hpp>

namespace impasto::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int parse_fast_size(const std::string& text) {
    if (text.empty() || text == "auto") {
        return 0; // the content's own size; tiling keeps memory in bounds
    }
    try {
        std::size_t used = 0;
        const int size = std::stoi(text, &used);
        if (used == text.size() && size >= 16 && size <= kMaxImageSide) {
            return size;
        }
    } catch (const std::exception&) {
    }
    throw ConfigError("size = '" + text + "' is out of range; allowed: 16.." + std::to_string(kMaxImageSide) +
                      ", or auto (the content's own size)");
}

Image load_input(const std::string& path, const char* what, std::int64_t max_pixels) {
    try {
        return load_image(path, decode_limits(max_pixels));
    } catch (const Error& e) {
        rethrow_with_context(InputError(e.what()), what);
    }
}

// What FastStylizeOptions and ArbitraryOptions have in common: size, precision, colour and tiling.
template <class Options>
void apply_shared_options(const FastStylizeArgs& args, const SharedStylizeArgs& shared, Precision precision,
                          Options& options) {
    options.size = parse_fast_size(shared.size);
    options.max_pixels = shared.max_pixels;
    options.precision = precision;
    if (!shared.color.empty()) {
        options.color = parse_color(shared.color);
    }
    if (args.tile > 0) {
        options.tiling.tile = args.tile;
    }
    if (args.tile_overlap_option->count() > 0) {
        options.tiling.overlap = args.tile_overlap;
    }
    if (args.work_size_option->count() > 0) {
        options.work_size = args.work_size;
    }
}

// Everything a run needs once the models are loaded: the transform and what the sidecar says.
struct FastRun {
    ImageTransform transform;
    nlohmann::json description;
    std::shared_ptr<const StyleNetwork> network;
    std::shared_ptr<const FeatureModel> encoder;
    std::shared_ptr<const DecoderSet> decoders;
};

FastRun prepare_model_run(const FastStylizeArgs& args, const SharedStylizeArgs& shared, const Device& device,
                          Precision precision) {
    if (!shared.styles.empty()) {
        throw ConfigError("--model carries its own styles; drop the style images, or use --method adain|wct to "
                          "stylise with them");
    }
    const std::filesystem::path file = resolve_style_model(args.model, default_models_dir());
    FastRun run;
    run.network = StyleNetwork::load(file, device);
    if (!args.masks.empty() && run.network->kind() != StyleModelKind::StyleBank) {
        throw ConfigError("--mask with --model needs a stylebank model (region fusion of its banks); '" + args.model +
                          "' is a " + to_string(run.network->kind()) + " network");
    }
    const auto style_count = run.network->style_names().size();
    if (!args.masks.empty() && args.masks.size() != style_count) {
        throw ConfigError(fmt::format("--mask was given {} times for a model of {} styles ({}); give one per style, "
                                      "black for a style to leave out",
                                      args.masks.size(), style_count, fmt::join(run.network->style_names(), ", ")));
    }
    FastStylizeOptions options;
    options.style_weights = args.style_weights;
    for (const std::string& mask : args.masks) {
        options.masks.push_back(load_input(mask, "mask image", shared.max_pixels));
    }
    apply_shared_options(args, shared, precision, options);
    options.validate(static_cast<int>(style_count));
    run.description = {{"method", "model"},
                       {"model", file.string()},
                       {"kind", to_string(run.network->kind())},
                       {"styles", run.network->style_names()},
                       {"style_weights", options.style_weights},
                       {"masks", args.masks},
                       {"width", run.network->width()},
                       {"size", options.size},
                       {"work_size", options.work_size},
                       {"color", to_string(options.color)},
                       {"tile", options.tiling.tile},
                       {"tile_overlap", options.tiling.overlap}};
    const auto network = run.network;
    run.transform = [network, options](const Image& content) { return stylize_fast(*network, content, options); };
    return run;
}

FastRun prepare_arbitrary_run(const FastStylizeArgs& args, const SharedStylizeArgs& shared, const CliState& state,
                              const Device& device, Precision precision) {
    if (shared.styles.empty()) {
        throw ConfigError("--method " + args.method + " needs at least one style image");
    }
    if (!args.style_weights.empty()) {
        throw ConfigError("--style-weights mixes the styles of a --model; with --method use --style-blend");
    }
    if (!args.masks.empty() && args.masks.size() != shared.styles.size()) {
        throw ConfigError(fmt::format("--mask was given {} times for {} style images; give one per style",
                                      args.masks.size(), shared.styles.size()));
    }
    if (!shared.style_blend.empty() && shared.style_blend.size() != shared.styles.size()) {
        throw ConfigError(fmt::format("--style-blend has {} values for {} style images; give one per style",
                                      shared.style_blend.size(), shared.styles.size()));
    }
    if (shared.styles.size() > kMaxStyleImages) {
        throw ConfigError(
            fmt::format("style images = {} is out of range; allowed: 1..{}", shared.styles.size(), kMaxStyleImages));
    }
    ArbitraryOptions options;
    options.method = parse_transform_method(args.method);
    if (args.alpha_option->count() > 0) {
        options.alpha = args.alpha;
    }
    options.levels = args.levels;
    if (args.style_size_option->count() > 0) {
        options.style_size = args.style_size;
    }
    if (args.wct_epsilon_option->count() > 0) {
        options.wct_epsilon = args.wct_epsilon;
    }
    apply_shared_options(args, shared, precision, options);
    options.validate();

    auto styles = std::make_shared<std::vector<ArbitraryStyle>>();
    for (std::size_t i = 0; i < shared.styles.size(); ++i) {
        ArbitraryStyle style;
        style.image = load_input(shared.styles[i], "style image", shared.max_pixels);
        style.weight = shared.style_blend.empty() ? 1.0 : shared.style_blend[i];
        if (!args.masks.empty()) {
            style.mask = load_input(args.masks[i], "mask image", shared.max_pixels);
        }
        styles->push_back(std::move(style));
    }
    const std::filesystem::path decoder_dir =
        args.decoders.empty() ? default_models_dir() / "decoders" : std::filesystem::path(args.decoders);
    FastRun run;
    run.decoders = DecoderSet::load(decoder_dir, device);
    run.encoder = load_model(state, shared.weights, device);
    run.description = {{"method", to_string(options.method)},
                       {"styles", shared.styles},
                       {"style_blend", shared.style_blend},
                       {"masks", args.masks},
                       {"alpha", options.alpha},
                       {"levels", options.levels},
                       {"decoders", decoder_dir.string()},
                       {"decoder_levels", run.decoders->levels()},
                       {"encoder", run.encoder->info().name},
                       {"size", options.size},
                       {"work_size", options.work_size},
                       {"style_size", options.style_size},
                       {"wct_epsilon", options.wct_epsilon},
                       {"color", to_string(options.color)},
                       {"tile", options.tiling.tile},
                       {"tile_overlap", options.tiling.overlap}};
    const auto encoder = run.encoder;
    const auto decoders = run.decoders;
    run.transform = [encoder, decoders, styles, options](const Image& content) {
        return stylize_arbitrary(*encoder, *decoders, content, *styles, options);
    };
    return run;
}

void run_batch_folder(const FastRun& run, const FastStylizeArgs& args, const SharedStylizeArgs& shared,
                      CliState& state) {
    std::string extension = args.format;
    if (!extension.empty() && extension.front() != '.') {
        extension.insert(extension.begin(), '.');
    }
    const std::vector<BatchItem> items = plan_batch(shared.content, shared.output, extension);
    BatchOptions options;
    options.skip_existing = args.skip_existing;
    install_interrupt_handlers();
    const BatchSummary summary = run_batch(items, run.transform, options, [&](const BatchEvent& event) {
        const BatchItemResult& item = *event.item;
        if (!item.ok && !item.skipped) {
            std::fprintf(stderr, "impasto: error: %s\n", item.error.c_str());
        } else if (!shared.quiet) {
            std::fprintf(stderr, "[%zu/%zu] %s -> %s (%s)\n", event.done, event.total,
                         item.item.input.filename().c_str(), item.item.output.c_str(),
                         item.skipped
                             ? "exists, skipped"
                             : fmt::format("{}x{}, {:.2f} s", item.width, item.height, item.stylize_seconds).c_str());
        }
        return !interrupt_requested();
    });
    if (!shared.quiet) {
        double network_seconds = 0;
        for (const BatchItemResult& item : summary.items) {
            network_seconds += item.stylize_seconds;
        }
        std::fprintf(stderr, "%zu written, %zu skipped, %zu failed in %.1f s (network %.1f s)%s\n", summary.written,
                     summary.skipped, summary.failed, summary.wall_seconds, network_seconds,
                     summary.cancelled ? "; interrupted" : "");
    }
    if (summary.cancelled) {
        state.exit_code = 130;
    } else if (summary.failed > 0) {
        state.exit_code = 1;
    }
}

void run_single(const FastRun& run, const SharedStylizeArgs& shared, const Device& device, Precision precision,
                int threads, Clock::time_point start) {
    std::vector<std::filesystem::path> inputs{shared.content};
    inputs.insert(inputs.end(), shared.styles.begin(), shared.styles.end());
    check_output_path(shared.output, inputs);
    const Image content = load_input(shared.content, "content image", shared.max_pixels);
    const auto network_start = Clock::now();
    const Image result = run.transform(content);
    const double network_seconds = seconds_since(network_start);
    save_image(result, shared.output);
    nlohmann::json sidecar = run.description;
    sidecar["content"] = shared.content;
    sidecar["output"] = shared.output;
    sidecar["width"] = result.width;
    sidecar["height"] = result.height;
    sidecar["device"] = device.str();
    sidecar["precision"] = to_string(precision);
    sidecar["threads"] = threads;
    sidecar["seconds"] = {{"network", network_seconds}, {"total", seconds_since(start)}};
    sidecar["impasto_version"] = IMPASTO_VERSION;
    sidecar["command_line"] = joined_command_line();
    write_file_atomic(sidecar_path(shared.output), sidecar.dump(2) + "\n");
    if (!shared.quiet) {
        std::fprintf(stderr, "wrote %s (%dx%d, network %.2f s, total %.2f s)\n", shared.output.c_str(), result.width,
                     result.height, network_seconds, seconds_since(start));
    }
}

} // namespace

void add_fast_stylize_options(CLI::App& cmd, FastStylizeArgs& args) {
    const ArbitraryOptions arbitrary;
    const FastStylizeOptions fast;
    const TilingOptions tiling;
    const BatchOptions batch;
    cmd.add_option("--model", args.model,
                   "Feed-forward: a trained network (.impasto file, or a name from `impasto models list`); takes no "
                   "style images");
    cmd.add_option("--method", args.method, "Arbitrary style in one pass: adain or wct, with the style images given");
    cmd.add_option("--style-weights", args.style_weights,
                   "--model with several styles: one weight per style, mixed [default: the first style; with "
                   "--mask every style]")
        ->delimiter(',');
    args.alpha_option = cmd.add_option(
        "--alpha", args.alpha, fmt::format("--method: 0 = content, 1 = full style [default: {}]", arbitrary.alpha));
    cmd.add_option("--levels", args.levels,
                   "--method: encoder levels, deep to shallow [default: adain relu4_1; wct every decoder]")
        ->delimiter(',');
    cmd.add_option("--decoders", args.decoders, "--method: folder of decoder models [default: MODELS/decoders]");
    cmd.add_option("--mask", args.masks,
                   "--method, or --model with a stylebank model: one mask image per style; white where that style "
                   "applies");
    args.style_size_option =
        cmd.add_option("--style-size", args.style_size,
                       fmt::format("--method: long side of the style images [default: {}]", arbitrary.style_size));
    args.wct_epsilon_option = cmd.add_option(
        "--wct-epsilon", args.wct_epsilon,
        fmt::format("--method wct: eigenvalue floor, relative to each covariance's mean eigenvalue; directions "
                    "below it are dropped [default: {}]",
                    arbitrary.wct_epsilon));
    args.work_size_option = cmd.add_option(
        "--work-size", args.work_size,
        fmt::format("--model/--method: long side the network runs at when the output is larger; the result is "
                    "brought to the output size by guided upsampling with the photo's edges (fast guided filter). "
                    "Faster, but the network paints at the scale it runs at: not the full-size result. 0 = run at "
                    "the output size [default: --method {}, --model {}]",
                    arbitrary.work_size, fast.work_size));
    cmd.add_option(
        "--tile", args.tile,
        fmt::format("--model/--method: tile long side in px; 0 = from the memory budget [default: {}]", tiling.tile));
    args.tile_overlap_option =
        cmd.add_option("--tile-overlap", args.tile_overlap,
                       fmt::format("--model/--method: tile overlap in px on each side [default: {}]", tiling.overlap));
    cmd.add_option("--format", args.format, "A folder of photos in: the output format (jpg, png, webp, ...)")
        ->capture_default_str();
    cmd.add_flag(
        "--skip-existing", args.skip_existing,
        fmt::format("A folder in: leave outputs that exist alone [default: {}]", batch.skip_existing ? "on" : "off"));
}

bool wants_fast_stylize(const FastStylizeArgs& args) {
    return !args.model.empty() || !args.method.empty();
}

void run_fast_stylize(const FastStylizeArgs& args, const SharedStylizeArgs& shared, CliState& state) {
    const auto start = Clock::now();
    if (!args.model.empty() && !args.method.empty()) {
        throw ConfigError("--model and --method exclude each other: a trained network, or a style image in one pass");
    }
    const Device device = resolve_device(shared.device);
    const Precision precision = resolve_precision(shared.precision, device);
    const int threads = resolve_threads(shared.threads);
    set_num_threads(threads);
    const bool folder = std::filesystem::is_directory(shared.content);
    if (!folder) {
        // Fail on a bad output path before loading anything.
        std::vector<std::filesystem::path> inputs{shared.content};
        inputs.insert(inputs.end(), shared.styles.begin(), shared.styles.end());
        check_output_path(shared.output, inputs);
    }
    const FastRun run = args.model.empty() ? prepare_arbitrary_run(args, shared, state, device, precision)
                                           : prepare_model_run(args, shared, device, precision);
    if (folder) {
        run_batch_folder(run, args, shared, state);
    } else {
        run_single(run, shared, device, precision, threads, start);
    }
}

} // namespace impasto::cli
