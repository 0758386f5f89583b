#pragma once
// What the two trainers share: the options as JSON (model card, checkpoint fingerprint), the
// hardware line of the card, and loss averaging between events.
#include "impasto/device.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/ScalarType.h>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace impasto::train {

// The options as a JSON object, as recorded in the model card.
std::string options_json(const TrainStyleOptions& options);
std::string options_json(const TrainDecoderOptions& options);

// A JSON object of what decides the sequence of batches (image list, batch, crop, seed, learning
// rate); the trainers add their own fields. Not steps: a run may be resumed to train longer.
std::string data_fingerprint(const TrainCommonOptions& options, const std::vector<std::filesystem::path>& files);
// Adds the fields of the JSON object `extra` to the JSON object `base`.
std::string merge_json(const std::string& base, const std::string& extra);

// "cpu: AMD EPYC 9B45 (2 threads, bf16)" or "cuda:0 (bf16)".
std::string hardware_description(const Device& device, Precision precision);
// "BSDS500/train, BSDS500/test (500 images)".
std::string training_data_description(const std::vector<std::filesystem::path>& folders, std::size_t images);
std::string utc_now_iso();
// Throws OutputError unless `output` ends in .impasto and its folder exists (and likewise the
// checkpoint's folder).
void check_model_output(const std::filesystem::path& output, const std::filesystem::path& checkpoint);
// The autocast dtype of a precision; throws ConfigError for fp16 (training needs loss scaling it has not).
c10::ScalarType training_compute_dtype(Precision precision);

// Runs `make` (a module constructor) with torch's default CPU generator seeded by `seed`, then puts
// the generator back as it was: the initial weights follow the seed without changing the random
// numbers the rest of the process sees.
template <class Make> auto with_seeded_init(std::uint64_t seed, Make make) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    const at::Tensor saved = generator.get_state();
    generator.set_current_seed(seed);
    try {
        auto made = make();
        generator.set_state(saved);
        return made;
    } catch (...) {
        generator.set_state(saved);
        throw;
    }
}

struct RunSummary;
// Fills the card's training record from a finished run: counts, time, hardware, losses, command,
// date, version and the stretches (the last one is this run's).
void record_training(ModelCard& card, const RunSummary& summary, const TrainCommonOptions& options,
                     const Device& device);
// options.init_model, which must be a `kind` model. Throws InputError naming it.
StyleModelFile read_init_model(const TrainCommonOptions& options, StyleModelKind kind);

// Sums losses between events and hands out their means.
class LossAverager {
  public:
    void add(const std::map<std::string, double>& losses);
    std::map<std::string, double> take(); // the means since the last take(); resets
    int count() const { return count_; }

  private:
    std::map<std::string, double> sums_;
    int count_ = 0;
};

} // namespace impasto::train
