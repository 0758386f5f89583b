#include "train/train_loop.h"

#include "impasto/error.h"
#include "train/checkpoint.h"
#include "train/image_folder_dataset.h"
#include "train/train_common.h"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <memory>

namespace impasto::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

torch::Tensor to_tensor(std::vector<float>& data, int batch, int crop, const torch::Device& device) {
    const torch::Tensor view = torch::from_blob(data.data(), {batch, 3, crop, crop}, torch::kFloat);
    return device.is_cpu() ? view.clone() : view.to(device);
}

// Fewer events would make a cancel (Ctrl-C) wait for a slow batch of ten steps.
constexpr double kMaxSecondsBetweenEvents = 2.0;

} // namespace

TrainingStart TrainingStart::from_card(const ModelCard& card) {
    TrainingStart start;
    start.steps = card.iterations;
    start.images_seen = card.images_seen;
    start.wall_seconds = card.wall_seconds;
    start.stretches = card.stretches;
    if (start.stretches.empty() && card.iterations > 0) {
        // A model from before stretches were recorded: its training as one stretch.
        TrainingStretch earlier;
        earlier.last_step = card.iterations;
        earlier.wall_seconds = card.wall_seconds;
        earlier.hardware = card.hardware;
        earlier.finished_utc = card.created_utc;
        start.stretches.push_back(earlier);
    }
    return start;
}

void StepProfiler::mark(const char* part) {
    if (!enabled_) {
        return;
    }
    if (cuda_) {
        torch::cuda::synchronize();
    }
    const auto now = Clock::now();
    sums_[part] += std::chrono::duration<double>(now - last_).count();
    last_ = now;
}

void StepProfiler::restart() {
    last_ = Clock::now();
}

std::map<std::string, double> StepProfiler::take(int steps) {
    std::map<std::string, double> means;
    for (const auto& [part, sum] : sums_) {
        means[part] = sum / std::max(1, steps);
    }
    sums_.clear();
    return means;
}

TrainResult run_training(const TrainCommonOptions& options, const std::vector<std::filesystem::path>& files,
                         const std::string& fingerprint, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                         const torch::Device& device, const TrainingHooks& hooks, const TrainCallback& on_event,
                         const TrainingStart& start) {
    const auto session_start = Clock::now();
    const std::filesystem::path checkpoint = checkpoint_path(options.output, options.checkpoint);
    if (options.steps <= start.steps) {
        throw ConfigError(fmt::format("steps = {}: the model to continue has {} steps already; ask for more",
                                      options.steps, start.steps));
    }
    CheckpointInfo state;
    state.fingerprint = fingerprint;
    state.step = start.steps;
    state.wall_seconds = start.wall_seconds;
    if (options.resume) {
        state = load_checkpoint(checkpoint, fingerprint, model, optimizer);
    }
    const std::int64_t first = state.step;
    const double wall_before = state.wall_seconds;
    DatasetOptions data_options{options.batch, options.crop, options.seed};
    data_options.color_jitter = options.color_jitter;
    const ImageFolderDataset dataset(files, data_options);
    StepProfiler fallback_profiler(false, device);
    StepProfiler& profiler = hooks.profiler != nullptr ? *hooks.profiler : fallback_profiler;

    // A fixed crop, so that previews from step to step compare.
    torch::Tensor preview_sample;
    if (options.preview_every > 0) {
        std::vector<float> data = ImageFolderDataset(files, {1, options.crop, options.seed}).batch(0);
        preview_sample = to_tensor(data, 1, options.crop, device);
    }

    const auto save = [&](std::int64_t done) {
        state.step = done;
        state.wall_seconds = wall_before + seconds_since(session_start);
        save_checkpoint(checkpoint, state, model, optimizer);
    };

    LossAverager averager;
    bool cancelled = false;
    std::int64_t done = first;
    if (first < options.steps) {
        BatchLoader loader(dataset, first, options.steps, options.loader_threads, options.prefetch_batches);
        auto window_start = Clock::now();
        int window_steps = 0;
        profiler.restart();
        for (std::int64_t step = first; step < options.steps; ++step) {
            std::vector<float> data = loader.next();
            const torch::Tensor batch = to_tensor(data, options.batch, options.crop, device);
            profiler.mark("data");
            const double rate =
                scheduled_learning_rate(options.learning_rate, options.schedule, options.final_learning_rate_fraction,
                                        step, start.steps, options.steps);
            for (auto& group : optimizer.param_groups()) {
                group.options().set_lr(rate);
            }
            const std::map<std::string, double> losses = hooks.step(step, batch);
            const auto total = losses.find("total");
            if (total != losses.end() && !std::isfinite(total->second)) {
                throw Error(fmt::format("training diverged at step {}: the loss is {}; try a lower learning rate",
                                        step + 1, total->second));
            }
            averager.add(losses);
            done = step + 1;
            ++window_steps;

            const bool last = done == options.steps;
            const bool checkpoint_now = last || (options.checkpoint_every > 0 && done % options.checkpoint_every == 0);
            const bool preview_now = options.preview_every > 0 && done % options.preview_every == 0;
            const double window_seconds = seconds_since(window_start);
            const bool event_now = checkpoint_now || preview_now || done == first + 1 ||
                                   done % options.event_every == 0 || window_seconds >= kMaxSecondsBetweenEvents;
            if (!event_now) {
                continue;
            }
            TrainEvent event;
            event.step = static_cast<int>(done);
            event.steps = options.steps;
            event.losses = averager.take();
            state.losses = event.losses;
            if (checkpoint_now) {
                save(done);
            }
            event.elapsed_seconds = seconds_since(session_start);
            event.seconds_per_step = window_seconds / window_steps;
            event.step_seconds = profiler.take(window_steps);
            event.checkpointed = checkpoint_now;
            Image preview;
            if (preview_now && hooks.preview) {
                preview = hooks.preview(done, preview_sample);
                event.preview = &preview;
            }
            window_start = Clock::now();
            window_steps = 0;
            profiler.restart(); // events, checkpoints and previews are not part of a step
            if (on_event && !on_event(event)) {
                cancelled = !last;
                if (!checkpoint_now) {
                    save(done);
                }
                break;
            }
        }
    }
    if (averager.count() > 0) {
        state.losses = averager.take();
    }

    RunSummary summary;
    summary.steps_done = done;
    // Batches may differ between stretches; within one they do not (a resume must match).
    summary.images_seen = start.images_seen + (done - start.steps) * options.batch;
    summary.wall_seconds = wall_before + seconds_since(session_start);
    summary.final_losses = state.losses;
    summary.stretches = start.stretches;
    TrainingStretch stretch;
    stretch.first_step = start.steps;
    stretch.last_step = done;
    stretch.wall_seconds = summary.wall_seconds - start.wall_seconds;
    stretch.crop = options.crop;
    stretch.batch = options.batch;
    stretch.learning_rate = options.learning_rate;
    summary.stretches.push_back(stretch); // the trainer adds its hardware and time
    hooks.write_model(summary);

    TrainResult result;
    result.steps_done = static_cast<int>(done);
    result.wall_seconds = summary.wall_seconds;
    result.final_losses = summary.final_losses;
    result.cancelled = cancelled;
    result.output = options.output;
    return result;
}

} // namespace impasto::train
