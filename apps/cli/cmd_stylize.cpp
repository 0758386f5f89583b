// `impasto stylize CONTENT STYLE [STYLE...] -o OUT`: the Gatys optimisation from the command line.
#include "cli_common.h"
#include "commands.h"
#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/run_record.h"
#include "impasto/stylize.h"
#include "interrupt.h"
#include "progress_display.h"
#include "stylize_fast_cli.h"

#include <chrono>
#include <fmt/format.h>
#include <memory>
#include <sstream>

namespace impasto::cli {
namespace {

// Raw option values; presets supply whatever the user did not type.
struct StylizeArgs {
    std::string content;
    std::vector<std::string> styles;
    std::string output;
    std::string preset = "default";
    std::string size;
    int iterations = 0;
    std::string schedule;
    std::vector<std::string> content_layers;
    std::vector<std::string> style_layers;
    std::vector<double> style_layer_weights;
    double content_weight = 0;
    double style_weight = 0;
    double tv_weight = 0;
    std::string loss_scaling;
    std::string pooling;
    std::string optimizer;
    int lbfgs_history = 0;
    bool line_search = false;
    double learning_rate = 0;
    std::string init;
    std::string init_image;
    std::uint64_t seed = 0;
    double style_scale = 0;
    std::vector<double> style_blend;
    std::string color;
    std::string precision = "auto";
    std::string device = "auto";
    int threads = 0;
    int save_every = 0;
    std::string weights = kDefaultWeightSet;
    std::int64_t max_pixels = kDefaultMaxPixels;
    bool quiet = false;
};

struct Bound {
    CLI::Option* size;
    CLI::Option* iterations;
    CLI::Option* schedule;
    CLI::Option* content_layers;
    CLI::Option* style_layers;
    CLI::Option* style_layer_weights;
    CLI::Option* content_weight;
    CLI::Option* style_weight;
    CLI::Option* tv_weight;
    CLI::Option* loss_scaling;
    CLI::Option* pooling;
    CLI::Option* optimizer;
    CLI::Option* lbfgs_history;
    CLI::Option* line_search;
    CLI::Option* learning_rate;
    CLI::Option* init;
    CLI::Option* seed;
    CLI::Option* style_scale;
    CLI::Option* color;
};

std::string join(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items) {
        text += (text.empty() ? "" : ",") + item;
    }
    return text;
}

std::string num(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

// Help text that shows the default preset's value and, where it differs, the paper preset's.
std::string with_defaults(const std::string& help, const std::string& default_value, const std::string& paper_value) {
    if (default_value == paper_value) {
        return help + " [default: " + default_value + "]";
    }
    return help + " [default: " + default_value + "; paper: " + paper_value + "]";
}

StylizeOptions build_options(const StylizeArgs& args, const Bound& bound) {
    StylizeOptions options = preset_options(args.preset);
    auto given = [](const CLI::Option* option) { return option->count() > 0; };
    if (given(bound.iterations)) {
        options.iterations = args.iterations;
    }
    if (given(bound.schedule)) {
        options.scales = args.schedule == "none" ? std::vector<ScaleStep>{} : parse_schedule(args.schedule);
    }
    if (given(bound.content_layers)) {
        options.content_layers = args.content_layers;
    }
    if (given(bound.style_layers)) {
        options.style_layers = args.style_layers;
    }
    if (given(bound.style_layer_weights)) {
        options.style_layer_weights = args.style_layer_weights;
    }
    if (given(bound.content_weight)) {
        options.content_weight = args.content_weight;
    }
    if (given(bound.style_weight)) {
        options.style_weight = args.style_weight;
    }
    if (given(bound.tv_weight)) {
        options.tv_weight = args.tv_weight;
    }
    if (given(bound.loss_scaling)) {
        options.loss_scaling = parse_loss_scaling(args.loss_scaling);
    }
    if (given(bound.pooling)) {
        options.pooling = parse_pooling(args.pooling);
    }
    if (given(bound.optimizer)) {
        options.optimizer = parse_optimizer(args.optimizer);
    }
    if (given(bound.lbfgs_history)) {
        options.lbfgs_history = args.lbfgs_history;
    }
    if (given(bound.line_search)) {
        options.lbfgs_line_search = args.line_search;
    }
    if (given(bound.learning_rate)) {
        options.learning_rate = args.learning_rate;
        options.adam_learning_rate = args.learning_rate;
    }
    if (given(bound.init)) {
        options.init = parse_init(args.init);
    }
    if (!args.init_image.empty()) {
        options.init = InitKind::File;
        options.init_file = args.init_image;
    }
    if (given(bound.seed)) {
        options.seed = args.seed;
    }
    if (given(bound.style_scale)) {
        options.style_scale = args.style_scale;
    }
    if (given(bound.color)) {
        options.color = parse_color(args.color);
    }
    options.preview_every = args.save_every;
    if (given(bound.size) && args.size != "auto") {
        try {
            std::size_t used = 0;
            options.size = std::stoi(args.size, &used);
            if (used != args.size.size()) {
                throw std::invalid_argument(args.size);
            }
        } catch (const std::exception&) {
            throw ConfigError("size = '" + args.size + "' is not a number or 'auto'");
        }
        if (options.size <= 0) {
            throw ConfigError("size = " + args.size + " is out of range; allowed: 16.." +
                              std::to_string(kMaxImageSide) + " or auto");
        }
    }
    return options;
}

void save_outputs(const Image& image, const RunRecord& record) {
    save_image(image, record.output);
    write_file_atomic(sidecar_path(record.output), run_record_json(record));
}

// --model/--method skip the optimisation: its own options would be silently ignored, so refuse them.
void run_fast(const StylizeArgs& args, const Bound& bound, const FastStylizeArgs& fast, CliState& state) {
    const std::vector<const CLI::Option*> optimisation_only{
        bound.iterations,     bound.schedule,      bound.content_layers, bound.style_layers,  bound.style_layer_weights,
        bound.content_weight, bound.style_weight,  bound.tv_weight,      bound.loss_scaling,  bound.pooling,
        bound.optimizer,      bound.lbfgs_history, bound.line_search,    bound.learning_rate, bound.init,
        bound.seed,           bound.style_scale};
    for (const CLI::Option* option : optimisation_only) {
        if (option->count() > 0) {
            throw ConfigError(option->get_name() + " is an option of the optimisation; it does not apply to " +
                              (fast.model.empty() ? "--method" : "--model"));
        }
    }
    SharedStylizeArgs shared;
    shared.content = args.content;
    shared.styles = args.styles;
    shared.output = args.output;
    shared.size = bound.size->count() > 0 ? args.size : "";
    shared.color = bound.color->count() > 0 ? args.color : "";
    shared.precision = args.precision;
    shared.device = args.device;
    shared.threads = args.threads;
    shared.style_blend = args.style_blend;
    shared.weights = args.weights;
    shared.max_pixels = args.max_pixels;
    shared.quiet = args.quiet;
    run_fast_stylize(fast, shared, state);
}

void run_stylize(const StylizeArgs& args, const Bound& bound, CliState& state) {
    const auto start = std::chrono::steady_clock::now();
    if (args.styles.empty()) {
        throw ConfigError("at least one style image is needed (or --model NAME, or --method adain|wct with a style)");
    }
    std::vector<std::filesystem::path> inputs{args.content};
    for (const std::string& style : args.styles) {
        inputs.emplace_back(style);
    }
    check_output_path(args.output, inputs);
    if (!args.style_blend.empty() && args.style_blend.size() != args.styles.size()) {
        throw ConfigError(fmt::format("--style-blend has {} values for {} style images; give one per style",
                                      args.style_blend.size(), args.styles.size()));
    }
    if (args.save_every < 0 || args.save_every > kMaxIterations) {
        throw ConfigError("save-every = " + std::to_string(args.save_every) + " is out of range; allowed: 0.." +
                          std::to_string(kMaxIterations));
    }
    if (args.styles.size() > kMaxStyleImages) {
        throw ConfigError(
            fmt::format("style images = {} is out of range; allowed: 1..{}", args.styles.size(), kMaxStyleImages));
    }
    const ImageLoadLimits limits = decode_limits(args.max_pixels);

    Image content;
    try {
        content = load_image(args.content, limits);
    } catch (const Error& e) {
        rethrow_with_context(InputError(e.what()), "content image");
    }
    std::vector<StyleImage> styles;
    for (std::size_t i = 0; i < args.styles.size(); ++i) {
        StyleImage style;
        try {
            style.image = load_image(args.styles[i], limits);
        } catch (const Error& e) {
            rethrow_with_context(InputError(e.what()), "style image");
        }
        style.blend_weight = args.style_blend.empty() ? 1.0 : args.style_blend[i];
        styles.push_back(std::move(style));
    }

    const Device device = resolve_device(args.device);
    StylizeOptions options = build_options(args, bound);
    options.precision = resolve_precision(args.precision, device);
    options.max_pixels = args.max_pixels;
    const int threads = resolve_threads(args.threads);
    set_num_threads(threads);
    const RunImageSizes sizes = run_image_sizes(content, styles);
    if (args.size == "auto") {
        const int fits = largest_size_that_fits(options, sizes, available_memory_bytes(device));
        options.size = std::min(std::max(content.width, content.height), fits);
    }
    options.validate();
    // Refuse a run that is too large before the weights are loaded: every image the network sees
    // counts, the styles at their scaled sizes (stylize() checks again, with the init image).
    check_work_limits(options, sizes);
    check_memory_fits(options, sizes, available_memory_bytes(device));

    const auto model = load_model(state, args.weights, device);
    // The presets name VGG layers; another backbone uses its own defaults unless layers are given.
    const Architecture architecture = model->architecture();
    if (architecture != Architecture::Vgg19 && architecture != Architecture::Vgg16) {
        if (bound.content_layers->count() == 0) {
            options.content_layers = default_content_layers(architecture);
        }
        if (bound.style_layers->count() == 0) {
            options.style_layers = default_style_layers(architecture);
        }
    }
    RunRecord record;
    record.command_line = joined_command_line();
    record.content = args.content;
    for (std::size_t i = 0; i < args.styles.size(); ++i) {
        record.styles.emplace_back(args.styles[i]);
        record.style_blend.push_back(styles[i].blend_weight);
    }
    record.output = args.output;
    record.options = options;
    record.weights = model->info();
    record.device = device;
    record.threads = threads;

    install_interrupt_handlers();
    ProgressDisplay display(!args.quiet);
    const std::filesystem::path out(args.output);
    const auto on_progress = [&](const ProgressEvent& event) {
        display.update(event);
        if (event.preview != nullptr && args.save_every > 0) {
            const std::filesystem::path snapshot =
                out.parent_path() /
                fmt::format("{}.iter{:05}{}", out.stem().string(), event.total_iteration, out.extension().string());
            save_image(*event.preview, snapshot);
        }
        return !interrupt_requested();
    };
    const StylizeResult result = stylize(*model, content, styles, options, on_progress);
    display.finish();

    record.result = &result;
    record.status = result.cancelled ? "interrupted" : "complete";
    record.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    record.peak_memory_bytes = peak_rss_bytes();
    if (result.image.empty()) {
        state.exit_code = 130;
        return; // interrupted before the first evaluation: nothing worth saving
    }
    save_outputs(result.image, record);
    if (!args.quiet) {
        std::fprintf(stderr, "%s %s (%dx%d, %d iterations, %.1f s, peak %.2f GB)\n",
                     result.cancelled ? "interrupted; saved" : "wrote", args.output.c_str(), result.width,
                     result.height, result.iterations_done, record.total_seconds, record.peak_memory_bytes / 1e9);
    }
    if (result.cancelled) {
        state.exit_code = 130;
    }
}

} // namespace

void setup_stylize(CLI::App& app, CliState& state) {
    auto args = std::make_shared<StylizeArgs>();
    auto bound = std::make_shared<Bound>();
    auto fast = std::make_shared<FastStylizeArgs>();
    const StylizeOptions def = preset_options("default");
    const StylizeOptions paper = preset_options("paper");
    CLI::App* cmd = app.add_subcommand("stylize", "Stylise a photo: by optimisation (Gatys), with a trained network "
                                                  "(--model) or with any style in one pass (--method)");
    cmd->add_option("content", args->content, "Content photo (--model/--method: or a folder of photos)")->required();
    cmd->add_option("styles", args->styles, "Style images (none with --model)");
    cmd->add_option("-o,--output", args->output,
                    "Output image, format from the extension (.png .jpg ...); a folder when the content is one")
        ->required();
    cmd->add_option("--preset", args->preset, "Preset: default (fast, tuned) or paper (Gatys 2016 exactly)")
        ->capture_default_str();
    bound->size = cmd->add_option("--size", args->size,
                                  with_defaults("Long side of the output in pixels, or 'auto' for the largest that "
                                                "fits in memory (up to the content's own size); --model/--method: "
                                                "the content's own size unless given",
                                                std::to_string(def.size), std::to_string(paper.size)));
    bound->iterations = cmd->add_option("--iterations", args->iterations,
                                        with_defaults("Iterations at the final scale", std::to_string(def.iterations),
                                                      std::to_string(paper.iterations)));
    bound->schedule = cmd->add_option(
        "--schedule", args->schedule,
        with_defaults("Coarse-to-fine steps SIZE:ITERS,...; scaled so the last is --size/--iterations; 'none' = one "
                      "scale",
                      format_schedule(def.scales), paper.scales.empty() ? "none" : format_schedule(paper.scales)));
    bound->content_layers = cmd->add_option("--content-layers", args->content_layers,
                                            with_defaults("Content layers (see `impasto layers`)",
                                                          join(def.content_layers), join(paper.content_layers)))
                                ->delimiter(',');
    bound->style_layers =
        cmd->add_option("--style-layers", args->style_layers,
                        with_defaults("Style layers", join(def.style_layers), join(paper.style_layers)))
            ->delimiter(',');
    bound->style_layer_weights = cmd->add_option("--style-layer-weights", args->style_layer_weights,
                                                 "Per-layer style weights w_l, one per style layer [default: 1/L each]")
                                     ->delimiter(',');
    bound->content_weight =
        cmd->add_option("--content-weight", args->content_weight,
                        with_defaults("alpha: content weight", num(def.content_weight), num(paper.content_weight)));
    bound->style_weight =
        cmd->add_option("--style-weight", args->style_weight,
                        with_defaults("beta: style weight", num(def.style_weight), num(paper.style_weight)));
    bound->tv_weight =
        cmd->add_option("--tv-weight", args->tv_weight,
                        with_defaults("Total-variation weight", num(def.tv_weight), num(paper.tv_weight)));
    bound->loss_scaling = cmd->add_option("--loss-scaling", args->loss_scaling,
                                          with_defaults("paper (eq. 1-3 as written) or normalized (per-layer, "
                                                        "size-independent)",
                                                        to_string(def.loss_scaling), to_string(paper.loss_scaling)));
    bound->pooling = cmd->add_option("--pooling", args->pooling,
                                     with_defaults("max or avg", to_string(def.pooling), to_string(paper.pooling)));
    bound->optimizer =
        cmd->add_option("--optimizer", args->optimizer,
                        with_defaults("lbfgs or adam", to_string(def.optimizer), to_string(paper.optimizer)));
    bound->lbfgs_history = cmd->add_option(
        "--lbfgs-history", args->lbfgs_history,
        with_defaults("L-BFGS history size", std::to_string(def.lbfgs_history), std::to_string(paper.lbfgs_history)));
    bound->line_search =
        cmd->add_flag("--line-search,!--no-line-search", args->line_search,
                      with_defaults("Strong-Wolfe line search for L-BFGS", def.lbfgs_line_search ? "on" : "off",
                                    paper.lbfgs_line_search ? "on" : "off"));
    bound->learning_rate = cmd->add_option(
        "--lr", args->learning_rate,
        fmt::format("Step size [default: L-BFGS {}, Adam {}]", num(def.learning_rate), num(def.adam_learning_rate)));
    bound->init = cmd->add_option(
        "--init", args->init,
        with_defaults("Start from noise (seeded), content or style", to_string(def.init), to_string(paper.init)));
    cmd->add_option("--init-image", args->init_image, "Start from this image file (implies --init file)");
    bound->seed = cmd->add_option(
        "--seed", args->seed,
        with_defaults("Seed of the white-noise init", std::to_string(def.seed), std::to_string(paper.seed)));
    bound->style_scale = cmd->add_option(
        "--style-scale", args->style_scale,
        with_defaults("Style image long side relative to the output's", num(def.style_scale), num(paper.style_scale)));
    cmd->add_option("--style-blend", args->style_blend, "Blend weights of several styles, one each [default: equal]")
        ->delimiter(',');
    bound->color = cmd->add_option("--preserve-color", args->color,
                                   with_defaults("Keep the content's colours: none, luminance (style only the "
                                                 "luminance) or histogram (recolour the style first)",
                                                 to_string(def.color), to_string(paper.color)));
    cmd->add_option("--precision", args->precision,
                    "auto (bf16 on CPUs with AVX512_BF16/AMX and on CUDA, else fp32), fp32, bf16, fp16 (CUDA)")
        ->capture_default_str();
    cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads; 0 = every core")->capture_default_str();
    cmd->add_option("--save-every", args->save_every,
                    "Also save the image every N iterations (OUT.iterNNNNN.ext); 0 = off")
        ->capture_default_str();
    cmd->add_option("--weights", args->weights, "Weight set (see `impasto weights status`)")->capture_default_str();
    cmd->add_option("--max-pixels", args->max_pixels,
                    max_pixels_help("and the most pixels any image may have as the network sees it (the style "
                                    "images at their scaled size, the output)"));
    cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
    add_fast_stylize_options(*cmd, *fast);
    cmd->callback([args, bound, fast, &state] {
        if (wants_fast_stylize(*fast)) {
            run_fast(*args, *bound, *fast, state);
        } else {
            run_stylize(*args, *bound, state);
        }
    });
}

} // namespace impasto::cli
