#pragma once
// Training checkpoints: the model's parameters, the optimiser's state (Adam moments and step
// counts), the step reached, the wall time so far and a fingerprint of the options that decide
// what is trained. A resumed run continues bit for bit where the saved one stopped; a checkpoint
// made with different options is refused, naming what differs.
#include "core/torch_compat.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace impasto::train {

struct CheckpointInfo {
    std::int64_t step = 0;                // optimiser steps done
    double wall_seconds = 0;              // summed over the sessions so far
    std::string fingerprint;              // a JSON object: the options that must match to resume
    std::map<std::string, double> losses; // the last averaged losses, for the model card
};

// <output>.ckpt unless `checkpoint` names another file.
std::filesystem::path checkpoint_path(const std::filesystem::path& output, const std::filesystem::path& checkpoint);

// Writes atomically (a temporary sibling, then a rename). Throws OutputError.
void save_checkpoint(const std::filesystem::path& file, const CheckpointInfo& info, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer);

// Restores `model` and `optimizer` when the checkpoint's fingerprint equals `fingerprint`. Throws
// InputError when the file is missing or damaged, or was made with other options (naming them).
CheckpointInfo load_checkpoint(const std::filesystem::path& file, const std::string& fingerprint,
                               torch::nn::Module& model, torch::optim::Optimizer& optimizer);

// "batch: 4 in the checkpoint, 2 now; crop: ..." for the fields of two JSON objects that differ;
// "" when they are equal.
std::string fingerprint_differences(const std::string& saved, const std::string& current);

} // namespace impasto::train
