#pragma once
// The loop both trainers run: batches in step order, one optimiser step each, progress events,
// previews, checkpoints, cancellation and resumption. The trainers supply the step itself and
// how to write their model file.
#include "core/torch_compat.h"
#include "impasto/image.h"
#include "impasto/train.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace impasto::train {

struct RunSummary {
    std::int64_t steps_done = 0; // across resumes
    std::int64_t images_seen = 0;
    double wall_seconds = 0; // across resumes
    std::map<std::string, double> final_losses;
};

struct TrainingHooks {
    // One optimiser step (0-based `step`) on a batch [B,3,crop,crop] RGB on the model's device;
    // returns the weighted loss terms and "total".
    std::function<std::map<std::string, double>(std::int64_t step, const torch::Tensor& batch)> step;
    // The preview after `steps_done` steps; `sample` is a fixed training crop [1,3,crop,crop].
    std::function<Image(std::int64_t steps_done, const torch::Tensor& sample)> preview;
    // Writes the model file.
    std::function<void(const RunSummary& summary)> write_model;
};

// Restores the checkpoint when options.resume, trains up to options.steps, and writes the model
// (also when cancelled). The checkpoint is written every checkpoint_every steps, at the end and on
// a cancel. Throws what the hooks and the loader throw; a non-finite loss throws Error.
TrainResult run_training(const TrainCommonOptions& options, const std::vector<std::filesystem::path>& files,
                         const std::string& fingerprint, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                         const torch::Device& device, const TrainingHooks& hooks, const TrainCallback& on_event);

} // namespace impasto::train
