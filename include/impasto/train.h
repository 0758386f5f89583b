#pragma once
// Training the feed-forward models with impasto itself: transformer networks with a VGG19
// perceptual loss (Johnson et al. 2016; several styles through conditional instance norm, and a
// style added to a trained network by training only its norm parameters), and reconstruction
// decoders for the arbitrary-style path (Li et al. 2017: pixel + feature loss, natural photos only).
// Progress goes to a callback; checkpoints make every run resumable.
#include "impasto/image.h"
#include "impasto/model.h"
#include "impasto/stylize_options.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace impasto {

// Caps on a training run's memory, checked by validate(): one batch of crops goes through the
// transformer and VGG with gradients (~4 KB per pixel), and prefetch_batches more wait in the queue.
// Real runs use 4 x 256^2 (0.26 Mpx); the caps allow 16 crops of 2048 px.
inline constexpr std::int64_t kMaxBatchPixels = std::int64_t{1} << 26U;  // batch x crop^2
inline constexpr std::int64_t kMaxQueuedPixels = std::int64_t{1} << 28U; // prefetch_batches x batch x crop^2
inline constexpr int kMaxTrainSteps = 10'000'000;                        // Johnson et al. trained 40k

enum class LearningRateSchedule { Constant, Cosine };
const char* to_string(LearningRateSchedule schedule);
LearningRateSchedule parse_learning_rate_schedule(const std::string& text); // throws ConfigError

// The learning rate of 0-based `step` in a stretch of steps [first, end).
double scheduled_learning_rate(double learning_rate, LearningRateSchedule schedule, double final_fraction,
                               std::int64_t step, std::int64_t first, std::int64_t end);

// What every trainer shares: data, batches, optimiser, precision, checkpoints, previews.
struct TrainCommonOptions {
    std::vector<std::filesystem::path> data; // folders searched recursively for images
    std::filesystem::path output;            // the .impasto model file
    std::filesystem::path checkpoint;        // empty = <output>.ckpt
    bool resume = false; // continue from the checkpoint; it must match in everything but steps, precision,
                         // threads, checkpoint/preview/event cadence (the refusal names what differs)
    int steps = 2000;    // total optimiser steps, counted across resumes (1..kMaxTrainSteps)
    int batch = 4;       // 1..1024, and batch x crop^2 <= kMaxBatchPixels
    int crop = 256;      // training crops: random crop of a random rescale, random flip (16..4096)
    double learning_rate = 1e-3;
    // Over each stretch (each run): a linear warm-up over its first 2 % of steps (at most 100), so
    // that a restarted optimiser does not jolt a trained model, then a cosine fall to
    // learning_rate * final_learning_rate_fraction at its last step. "constant" keeps the rate.
    LearningRateSchedule schedule = LearningRateSchedule::Cosine;
    double final_learning_rate_fraction = 0.05;
    std::uint64_t seed = 0;
    Precision precision = Precision::Fp32; // the CLI resolves "auto" (bf16 on CPUs that have it)
    int loader_threads = 2;                // decode/augment threads feeding a bounded queue
    int prefetch_batches = 4;
    int checkpoint_every = 100; // steps; the last step always saves the model
    int preview_every = 0;      // steps between preview images in events; 0 = none
    int event_every = 10;       // steps between progress events (and at least one every 2 s, so that a
                                // cancel is seen promptly); events also come at checkpoints, previews, the end
    std::filesystem::path preview_content; // content photo for previews (empty = a training crop)
    // A committed model to train on from (a new training stretch): its weights are the start, its
    // card's steps, images and wall time carry on and `steps` counts from its steps; the crop
    // sequence continues where it stopped. The optimiser state restarts. Not with `resume`.
    std::filesystem::path init_model;
    // Probability that a training crop gets a random colour transform: its channels permuted and
    // its saturation scaled by 2^U(-1,1). Photo collections are muted; paintings are not.
    double color_jitter = 0.0;
    bool profile = false;     // time each part of a step; reported in the events
    std::string data_license; // recorded in the model card
    std::string command;      // recorded in the model card
    void validate() const;    // throws ConfigError naming the field
};

struct TrainStyleOptions {
    TrainCommonOptions common;
    std::vector<std::filesystem::path> styles; // one image per style; several -> conditional instance norm
    // Add styles to this trained network: only the norm parameters of the new styles are trained.
    std::filesystem::path base_model;
    double width = 0.5;   // width multiplier (1 = Johnson's 32/64/128 channels, ~1.7M parameters)
    int style_size = 256; // long side of each style image for its Gram targets
    std::vector<std::string> content_layers{"relu3_1"};
    std::vector<std::string> style_layers{"relu1_1", "relu2_1", "relu3_1", "relu4_1"};
    std::vector<double> style_layer_weights; // empty = equal
    // Normalised terms (each about 1 at the start): content ||F-P||^2/||P||^2, style per layer
    // ||G-A||^2/||A||^2 with Grams divided by their positions, tv the mean squared difference of
    // neighbouring pixels: about 1e-3 on 256 px crops early in training, so 1e-5 leaves it inert
    // and it becomes comparable with the other terms from a weight of about 100.
    double content_weight = 1.0;
    double style_weight = 5.0;
    double tv_weight = 1e-5;
    void validate() const;
};

struct TrainDecoderOptions {
    TrainDecoderOptions() { common.color_jitter = 0.5; } // decoders must give back any colour
    TrainCommonOptions common;
    std::string level = "relu4_1"; // the encoder layer this decoder inverts
    double pixel_weight = 1.0;     // ||decoded - input||^2 (mean)
    double feature_weight = 1.0;   // ||encode(decoded) - encode(input)||^2 at `level` (mean, normalised)
    // A trained decoder of a shallower level to start the layers after this level's first block
    // from (they have the same shapes): the deep decoder then only has to learn to reach the
    // shallow decoder's input. Not with common.init_model.
    std::filesystem::path tail_model;
    // Huang & Belongie's own objective added to the reconstruction (train/adain_objective.h): folders
    // of paintings; empty = reconstruction only. Each step decodes AdaIN(photo crop, painting crop).
    std::vector<std::filesystem::path> style_data;
    double adain_weight = 1.0;        // weight of the AdaIN objective (content + style terms), >= 0
    double adain_style_weight = 10.0; // its style term against its content term (Huang & Belongie's lambda)
    int style_long_side = 512;        // paintings are cropped at this long side (--style-size at inference)
    void validate() const;
};

// StyleBank (Chen et al. 2017): an auto-encoder shared by every style and one filter bank per style,
// trained by alternating `stylise_steps` steps of the stylising branch (perceptual loss on a bank's
// output; encoder, that bank and decoder learn) with one step of the auto-encoder branch (mean
// squared error between the photo and its reconstruction; encoder and decoder learn).
struct TrainStyleBankOptions {
    // Data, styles, width and perceptual loss as for a transformer network. `style.base_model` names a
    // stylebank model to add banks to: only the new banks train, the auto-encoder (norms included)
    // and the old banks stay bit for bit as they are, and no auto-encoder steps are taken.
    TrainStyleOptions style;
    int bank_layers = 3;          // 3x3 convolutions (each with instance norm and ReLU) per bank, 1..8
    int stylise_steps = 2;        // T: stylising steps per auto-encoder step (the paper's T = 2), 1..100
    double identity_weight = 1.0; // weight of the auto-encoder branch's mean squared error, > 0
    void validate() const;        // throws ConfigError naming the field
};

struct TrainEvent {
    int step = 0; // 1-based, across resumes
    int steps = 0;
    std::map<std::string, double> losses; // weighted terms and "total", averaged since the last event
    double elapsed_seconds = 0;           // this session
    double seconds_per_step = 0;          // recent average
    bool checkpointed = false;            // a checkpoint was written at this step
    // With options.profile: seconds per step spent in each part ("data", "targets", "forward",
    // "loss", "backward", "optimizer"), averaged since the last event.
    std::map<std::string, double> step_seconds;
    const Image* preview = nullptr; // valid during the call
};
// Return false to stop: a checkpoint and the model are written, and the result says cancelled.
using TrainCallback = std::function<bool(const TrainEvent&)>;

struct TrainResult {
    int steps_done = 0;      // across resumes
    double wall_seconds = 0; // across resumes
    std::map<std::string, double> final_losses;
    bool cancelled = false;
    std::filesystem::path output;
};

// The checks that need no weights, in the order a user would fix them: the options, the output
// folder (must exist; the file must end in .impasto), the data folders (must hold images), the
// style images (must decode) or the base model. The trainers run them too; the CLI calls them
// first so that a mistake is reported before the weights load. Throws ConfigError, InputError,
// OutputError.
void check_training_inputs(const TrainStyleOptions& options);
void check_training_inputs(const TrainDecoderOptions& options);
void check_training_inputs(const TrainStyleBankOptions& options);

// `vgg` is the loss network (frozen). Throws ConfigError, InputError (no images in the data
// folders, a bad style image, a checkpoint that does not match), OutputError.
TrainResult train_style_network(const FeatureModel& vgg, const TrainStyleOptions& options,
                                const TrainCallback& on_event = {});
TrainResult train_decoder(const FeatureModel& vgg, const TrainDecoderOptions& options,
                          const TrainCallback& on_event = {});
TrainResult train_stylebank(const FeatureModel& vgg, const TrainStyleBankOptions& options,
                            const TrainCallback& on_event = {});

} // namespace impasto
