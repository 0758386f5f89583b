// The optimisation loop: coarse-to-fine schedule, L-BFGS or Adam, progress and cancellation.
#include "impasto/stylize.h"

#include "core/tensor_image.h"
#include "gatys/objective.h"
#include "impasto/color.h"
#include "impasto/error.h"

#include <ATen/CPUGeneratorImpl.h>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace impasto {

const char* to_string(Stage stage) {
    switch (stage) {
    case Stage::Preparing:
        return "preparing";
    case Stage::Optimizing:
        return "optimizing";
    default:
        return "finished";
    }
}

namespace {

using Clock = std::chrono::steady_clock;

// Thrown from inside an optimiser closure when the callback asks to stop.
struct StopRequested {};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct PreparedInputs {
    Image content;             // what the network sees as content (luminance in luminance mode)
    std::vector<Image> styles; // recoloured as the colour control asks
    std::vector<double> blend;
    Image init; // the decoded init file (InitKind::File)
};

// Decoded before the run's limits are checked, so that its size counts; under the run's pixel cap.
Image load_init_image(const StylizeOptions& options) {
    if (options.init != InitKind::File) {
        return {};
    }
    ImageLoadLimits limits;
    limits.max_pixels = options.max_pixels;
    try {
        return load_image(options.init_file, limits);
    } catch (const InputError& e) {
        rethrow_with_context(e, "init image");
    }
}

PreparedInputs prepare_inputs(const Image& content, const std::vector<StyleImage>& styles,
                              const StylizeOptions& options) {
    PreparedInputs prepared;
    prepared.content = options.color == ColorControl::Luminance ? luminance_image(content) : content;
    for (const StyleImage& style : styles) {
        if (!(style.blend_weight >= 0) || !std::isfinite(style.blend_weight)) {
            throw ConfigError(
                fmt::format("style blend weight = {} is out of range; allowed: >= 0", style.blend_weight));
        }
        switch (options.color) {
        case ColorControl::Histogram:
            prepared.styles.push_back(match_color_histogram(style.image, content));
            break;
        case ColorControl::Luminance:
            prepared.styles.push_back(match_luminance(luminance_image(style.image), prepared.content));
            break;
        default:
            prepared.styles.push_back(style.image);
        }
        prepared.blend.push_back(style.blend_weight);
    }
    double total = 0;
    for (double w : prepared.blend) {
        total += w;
    }
    if (!prepared.blend.empty() && total <= 0) {
        throw ConfigError("style blend weights sum to 0; give at least one style a positive weight");
    }
    return prepared;
}

torch::Tensor initial_image(const StylizeOptions& options, const PreparedInputs& inputs, int width, int height,
                            const torch::Device& device) {
    switch (options.init) {
    case InitKind::Content:
        return detail::image_to_tensor(resize_image(inputs.content, width, height), device);
    case InitKind::Style:
        if (inputs.styles.empty()) {
            throw ConfigError("init = style needs a style image");
        }
        return detail::image_to_tensor(resize_image(inputs.styles.front(), width, height), device);
    case InitKind::File: {
        if (options.color == ColorControl::Luminance) {
            return detail::image_to_tensor(resize_image(luminance_image(inputs.init), width, height), device);
        }
        return detail::image_to_tensor(resize_image(inputs.init, width, height), device);
    }
    default: {
        // White noise from our own generator, made on the CPU so every device starts alike.
        auto generator = at::detail::createCPUGenerator(options.seed);
        const torch::Tensor noise = torch::randn({1, 3, height, width}, generator, torch::kFloat);
        torch::Tensor image = 0.5 + options.noise_stddev * noise;
        if (options.color == ColorControl::Luminance) {
            image = image.mean(1, true).expand({1, 3, height, width}).contiguous();
        }
        return image.to(device);
    }
    }
}

struct RunState {
    const StylizeOptions& options;
    const ProgressCallback& on_progress;
    Clock::time_point start;
    StylizeResult& result;
    ProgressEvent event;
};

// Records one evaluation and reports it; throws StopRequested when the callback says stop.
void report(RunState& state, const LossValues& losses, const torch::Tensor& x) {
    ProgressEvent& event = state.event;
    ++event.iteration;
    ++event.total_iteration;
    event.stage = Stage::Optimizing;
    event.losses = losses;
    event.elapsed_seconds = seconds_since(state.start);
    state.result.history.push_back({event.scale_index, event.iteration, losses, event.elapsed_seconds});
    state.result.iterations_done = event.total_iteration;
    Image preview;
    event.preview = nullptr;
    if (state.options.preview_every > 0 && event.iteration % state.options.preview_every == 0) {
        preview = detail::tensor_to_image(x);
        event.preview = &preview;
    }
    const bool keep_going = !state.on_progress || state.on_progress(event);
    event.preview = nullptr;
    if (!keep_going) {
        throw StopRequested{};
    }
}

void optimize_scale(RunState& state, const gatys::GatysObjective& objective, torch::Tensor& x, int iterations) {
    const StylizeOptions& options = state.options;
    x.requires_grad_(true);
    const int first = state.event.iteration;
    // libtorch's strong-Wolfe line search ignores max_eval, so it can ask for evaluations past the
    // budget; those are refused and the run keeps the best image it evaluated.
    struct BudgetSpent {};
    torch::Tensor best;
    double best_loss = std::numeric_limits<double>::infinity();
    auto evaluate = [&]() {
        if (state.event.iteration - first >= iterations) {
            throw BudgetSpent{};
        }
        detail::clear_grad(x);
        LossValues losses;
        torch::Tensor loss = objective.evaluate(x, losses);
        loss.backward();
        if (options.lbfgs_line_search && losses.total < best_loss) {
            best_loss = losses.total;
            best = x.detach().clone();
        }
        report(state, losses, x);
        return loss;
    };
    if (options.optimizer == OptimizerKind::Adam) {
        torch::optim::Adam adam({x}, torch::optim::AdamOptions(options.adam_learning_rate));
        for (int i = 0; i < iterations; ++i) {
            adam.step([&] { return evaluate(); });
        }
        return;
    }
    // L-BFGS keeps its history across step() calls, so the budget is spent in chunks: each
    // chunk is one step() whose evaluations all report progress.
    torch::optim::LBFGSOptions lbfgs_options(options.learning_rate);
    lbfgs_options.history_size(options.lbfgs_history).tolerance_grad(0.0).tolerance_change(0.0);
    if (options.lbfgs_line_search) {
        lbfgs_options.line_search_fn("strong_wolfe");
    }
    torch::optim::LBFGS lbfgs({x}, lbfgs_options);
    while (state.event.iteration - first < iterations) {
        const int remaining = iterations - (state.event.iteration - first);
        auto& group_options = static_cast<torch::optim::LBFGSOptions&>(lbfgs.param_groups().front().options());
        group_options.max_iter(std::min(remaining, 50)).max_eval(remaining);
        const int before = state.event.iteration;
        try {
            lbfgs.step([&] { return evaluate(); });
        } catch (const BudgetSpent&) {
            torch::NoGradGuard no_grad;
            if (best.defined()) {
                x.copy_(best); // the line search left x at an unevaluated trial point
            }
            break;
        }
        if (state.event.iteration == before) {
            break; // converged: L-BFGS made no evaluation
        }
    }
}

} // namespace

StylizeResult stylize(const FeatureModel& model, const Image& content, const std::vector<StyleImage>& styles,
                      const StylizeOptions& options, const ProgressCallback& on_progress) {
    options.validate();
    check_layer_names(options.content_layers, "content layers", model.architecture());
    check_layer_names(options.style_layers, "style layers", model.architecture());
    if (content.empty()) {
        throw InputError("content image is empty");
    }
    // A content-only run (style weight 0) needs no style image; a style-only run (content weight 0
    // or no content layers) still takes `content`: it sets the output's size and aspect ratio.
    if (styles.empty() && options.style_weight > 0) {
        throw ConfigError("no style image given; give one, or set the style weight to 0 for a content-only run");
    }
    if (!gatys::uses_content(options) && !gatys::uses_style(options, styles.size()) && options.tv_weight <= 0) {
        throw ConfigError("nothing to optimise: the content weight, style weight and tv weight are all 0");
    }
    if (options.precision == Precision::Fp16 && model.device().kind == DeviceKind::Cpu) {
        throw ConfigError("precision fp16 needs a CUDA device; on CPU use bf16 or fp32");
    }
    const FeatureModel::Impl& impl = model.impl();
    const torch::Device device = nn::to_torch(model.device());

    StylizeResult result;
    RunState state{options, on_progress, Clock::now(), result, {}};
    const std::vector<ScaleStep> schedule = options.schedule();
    for (const ScaleStep& step : schedule) {
        state.event.total_iterations += step.iterations;
    }
    state.event.scale_count = static_cast<int>(schedule.size());
    // Every step is checked before the first runs: a run must not spend its coarse steps and then
    // fail at the final size. Every image the network sees counts, the styles at their scaled sizes.
    Image init = load_init_image(options);
    const RunImageSizes sizes = run_image_sizes(content, styles, init);
    check_work_limits(options, sizes);
    check_memory_fits(options, sizes, available_memory_bytes(model.device()));
    if (on_progress && !on_progress(state.event)) {
        result.cancelled = true;
        return result;
    }

    Clock::time_point stage_start = Clock::now();
    PreparedInputs inputs = prepare_inputs(content, styles, options);
    inputs.init = std::move(init);
    result.stage_times.push_back({"prepare", seconds_since(stage_start)});

    torch::Tensor x;
    const std::vector<Image> no_styles; // a style term with weight 0 gets no targets
    for (std::size_t s = 0; s < schedule.size() && !result.cancelled; ++s) {
        stage_start = Clock::now();
        const Image scaled_content = resize_long_side(inputs.content, schedule[s].long_side);
        const int width = scaled_content.width;
        const int height = scaled_content.height;
        const torch::Tensor content_tensor = detail::image_to_tensor(scaled_content, device);
        std::vector<torch::Tensor> style_tensors;
        const int style_side = options.style_long_side(schedule[s].long_side);
        for (const Image& style : gatys::uses_style(options, inputs.styles.size()) ? inputs.styles : no_styles) {
            style_tensors.push_back(detail::image_to_tensor(resize_long_side(style, style_side), device));
        }
        const gatys::GatysObjective objective(impl, options, content_tensor, style_tensors, inputs.blend);
        if (!x.defined()) {
            x = initial_image(options, inputs, width, height, device);
        } else {
            torch::NoGradGuard no_grad;
            x = torch::nn::functional::interpolate(x.detach(), torch::nn::functional::InterpolateFuncOptions()
                                                                   .size(std::vector<std::int64_t>{height, width})
                                                                   .mode(torch::kBicubic)
                                                                   .align_corners(false))
                    .clamp(0.0, 1.0);
        }
        x = x.detach().clone();
        state.event.scale_index = static_cast<int>(s);
        state.event.width = width;
        state.event.height = height;
        state.event.iteration = 0;
        state.event.iterations = schedule[s].iterations;
        try {
            optimize_scale(state, objective, x, schedule[s].iterations);
        } catch (const StopRequested&) {
            result.cancelled = true;
        }
        result.stage_times.push_back(
            {fmt::format("scale {} ({}x{})", s + 1, width, height), seconds_since(stage_start)});
    }

    stage_start = Clock::now();
    Image output = x.defined() ? detail::tensor_to_image(x) : resize_long_side(content, schedule.back().long_side);
    if (options.color == ColorControl::Luminance) {
        output = combine_luminance(output, resize_image(content, output.width, output.height));
    }
    result.width = output.width;
    result.height = output.height;
    result.image = std::move(output);
    result.stage_times.push_back({"finish", seconds_since(stage_start)});
    state.event.stage = Stage::Finished;
    state.event.elapsed_seconds = seconds_since(state.start);
    if (on_progress && !result.cancelled) {
        on_progress(state.event);
    }
    return result;
}

} // namespace impasto
