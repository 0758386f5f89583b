#pragma once
// Helpers shared by the subcommands: device and precision resolution, model loading.
#include "commands.h"
#include "impasto/device.h"
#include "impasto/image.h"
#include "impasto/model.h"
#include "impasto/stylize_options.h"

#include <memory>
#include <string>

namespace impasto::cli {

// "auto" picks CUDA when present, else the CPU. Throws ConfigError for unknown names or a
// CUDA request on a machine without it.
Device resolve_device(const std::string& text);
// "auto": bf16 on CPUs with native bf16 (AVX512_BF16/AMX) and on CUDA, else fp32.
Precision resolve_precision(const std::string& text, const Device& device);
// 0 means every core.
int resolve_threads(int requested);
// --max-pixels: the decode limit of every image the command reads. Throws ConfigError outside 256..2^40.
ImageLoadLimits decode_limits(std::int64_t max_pixels);
// Help text of --max-pixels; `what` says where else the limit applies.
std::string max_pixels_help(const std::string& what);
std::shared_ptr<const FeatureModel> load_model(const CliState& state, const std::string& weight_set,
                                               const Device& device);
// The command line as typed, for sidecars.
std::string joined_command_line();
void remember_command_line(int argc, char** argv);

} // namespace impasto::cli
