#pragma once
// The loop both trainers run: batches in step order, one optimiser step each, progress events,
// previews, checkpoints, cancellation and resumption. The trainers supply the step itself and
// how to write their model file.
#include "core/torch_compat.h"
#include "impasto/image.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace impasto::train {

struct RunSummary {
    std::int64_t steps_done = 0; // across resumes and stretches
    std::int64_t images_seen = 0;
    double wall_seconds = 0; // across resumes and stretches
    std::map<std::string, double> final_losses;
    std::vector<TrainingStretch> stretches; // the earlier ones, then this one
};

// Where a run starts: nothing, or the card of the committed model it continues (init_model).
struct TrainingStart {
    std::int64_t steps = 0;
    std::int64_t images_seen = 0;
    double wall_seconds = 0;
    std::vector<TrainingStretch> stretches;
    static TrainingStart from_card(const ModelCard& card);
};

// Wall time per part of a training step, when profiling: each mark() charges the time since the
// previous mark to `part`. CPU work is synchronous; on CUDA each mark waits for the device.
class StepProfiler {
  public:
    StepProfiler(bool enabled, const torch::Device& device) : enabled_(enabled), cuda_(device.is_cuda()) {}
    void mark(const char* part);
    void restart(); // the next mark() measures from now
    // Mean seconds per step of each part since the last take(), over `steps` steps; resets.
    std::map<std::string, double> take(int steps);
    bool enabled() const { return enabled_; }

  private:
    bool enabled_;
    bool cuda_;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    std::map<std::string, double> sums_;
};

struct TrainingHooks {
    // One optimiser step (0-based `step`) on a batch [B,3,crop,crop] RGB on the model's device;
    // returns the weighted loss terms and "total".
    std::function<std::map<std::string, double>(std::int64_t step, const torch::Tensor& batch)> step;
    // The preview after `steps_done` steps; `sample` is a fixed training crop [1,3,crop,crop].
    std::function<Image(std::int64_t steps_done, const torch::Tensor& sample)> preview;
    // Writes the model file.
    std::function<void(const RunSummary& summary)> write_model;
    // The step's parts are charged here when options.profile; run_training charges "data".
    StepProfiler* profiler = nullptr;
};

// Restores the checkpoint when options.resume, trains up to options.steps, and writes the model
// (also when cancelled). The checkpoint is written every checkpoint_every steps, at the end and on
// a cancel. Throws what the hooks and the loader throw; a non-finite loss throws Error.
// With `start` from a committed model (init_model), steps, images and wall time carry on from its card
// and the crop sequence continues at its step.
TrainResult run_training(const TrainCommonOptions& options, const std::vector<std::filesystem::path>& files,
                         const std::string& fingerprint, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                         const torch::Device& device, const TrainingHooks& hooks, const TrainCallback& on_event,
                         const TrainingStart& start = {});

} // namespace impasto::train
