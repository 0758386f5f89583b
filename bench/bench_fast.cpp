// One-pass stylisation speed: a transformer network (--model, or a freshly initialised one of
// --width) and the arbitrary path (--method adain|wct), on one photo resized to --size, with
// warm-up runs, then min and median, the FLOPs of the convolutions and the achieved GFLOP/s.
//
//   bench_fast --image PHOTO [--size 1024] [--width 0.5 | --model M.impasto] [--precision fp32|bf16]
//   bench_fast --image PHOTO --method adain --style PAINTING [--decoders DIR]
//   ... --work-size 512        the network at 512 px, guided upsampling to --size (0 = off)
//   ... --profile trace.json   one more run, op by op, for chrome://tracing
#include "impasto/arbitrary_style.h"
#include "impasto/error.h"
#include "impasto/fast_style.h"
#include "impasto/stylize.h"
#include "impasto/weights.h"
#include "nn/transformer_net.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <vector>

namespace {

using impasto::Image;

struct Args {
    std::string image;
    std::string style;
    std::string model;
    std::string method;
    std::string decoders;
    int size = 1024;
    int work_size = 0; // the options' work_size: 0 = the network at --size
    double width = 0.5;
    std::string precision = "fp32";
    std::string profile; // a chrome://tracing file of one more run, op by op
    int threads = 2;
    int repeat = 5;
    int warmup = 2;
};

Args parse(int argc, char** argv) {
    Args args;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const std::string value = argv[i + 1];
        if (key == "--image") {
            args.image = value;
        } else if (key == "--style") {
            args.style = value;
        } else if (key == "--model") {
            args.model = value;
        } else if (key == "--method") {
            args.method = value;
        } else if (key == "--decoders") {
            args.decoders = value;
        } else if (key == "--size") {
            args.size = std::stoi(value);
        } else if (key == "--work-size") {
            args.work_size = std::stoi(value);
        } else if (key == "--width") {
            args.width = std::stod(value);
        } else if (key == "--precision") {
            args.precision = value;
        } else if (key == "--threads") {
            args.threads = std::stoi(value);
        } else if (key == "--repeat") {
            args.repeat = std::stoi(value);
        } else if (key == "--profile") {
            args.profile = value;
        } else if (key == "--warmup") {
            args.warmup = std::stoi(value);
        } else {
            throw impasto::ConfigError("unknown option " + key);
        }
    }
    if (args.image.empty()) {
        throw impasto::ConfigError("--image is required");
    }
    return args;
}

int channels(double width, int base) {
    return std::max(4, static_cast<int>(std::lround(base * width)));
}

// Multiply-adds of the transformer's convolutions at h x w (padded to a multiple of 4), times 2.
double transformer_flops(double width, int h, int w) {
    const double hw = std::ceil(h / 4.0) * 4 * std::ceil(w / 4.0) * 4;
    const double c1 = channels(width, 32);
    const double c2 = channels(width, 64);
    const double c3 = channels(width, 128);
    const double macs = 81 * 3 * c1 * hw + 9 * c1 * c2 * hw / 4 + 9 * c2 * c3 * hw / 16 + 10 * 9 * c3 * c3 * hw / 16 +
                        9 * c3 * c2 * hw / 4 + 9 * c2 * c1 * hw + 81 * c1 * 3 * hw;
    return 2 * macs;
}

// VGG19's convolutions up to `level` (relu1_1 ... relu5_1) at h x w; the mirror-image decoder costs the same.
double encoder_flops(const std::string& level, int h, int w) {
    struct Conv {
        int in, out, downsampling;
        const char* ends_level;
    };
    static const Conv convs[] = {{3, 64, 1, "relu1_1"},     {64, 64, 1, nullptr},      {64, 128, 4, "relu2_1"},
                                 {128, 128, 4, nullptr},    {128, 256, 16, "relu3_1"}, {256, 256, 16, nullptr},
                                 {256, 256, 16, nullptr},   {256, 256, 16, nullptr},   {256, 512, 64, "relu4_1"},
                                 {512, 512, 64, nullptr},   {512, 512, 64, nullptr},   {512, 512, 64, nullptr},
                                 {512, 512, 256, "relu5_1"}};
    const double hw = static_cast<double>(h) * w;
    double macs = 0;
    for (const Conv& conv : convs) {
        macs += 9.0 * conv.in * conv.out * hw / conv.downsampling;
        if (conv.ends_level != nullptr && level == conv.ends_level) {
            break;
        }
    }
    return 2 * macs;
}

struct Timing {
    double min = 0;
    double median = 0;
};

template <class F> Timing time_it(const Args& args, F&& run) {
    for (int i = 0; i < args.warmup; ++i) {
        run();
    }
    std::vector<double> seconds;
    for (int i = 0; i < args.repeat; ++i) {
        const auto start = std::chrono::steady_clock::now();
        run();
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    if (!args.profile.empty()) {
        const torch::autograd::profiler::RecordProfile profile(args.profile);
        run();
    }
    return {seconds.front(), seconds[seconds.size() / 2]};
}

} // namespace

int main(int argc, char** argv) {
    try {
        const Args args = parse(argc, argv);
        impasto::set_num_threads(args.threads);
        const impasto::Precision precision = impasto::parse_precision(args.precision);
        const Image content = impasto::resize_long_side(impasto::load_image(args.image), args.size);
        const impasto::Device cpu;
        // With a work size the networks run at it (the FLOPs count there); the guided upsampling is
        // elementwise and not counted.
        const bool working = args.work_size > 0 && std::max(content.width, content.height) > args.work_size;
        const impasto::ImageSize network_size =
            working ? impasto::scaled_to_long_side({content.width, content.height}, args.work_size)
                    : impasto::ImageSize{content.width, content.height};
        std::string what;
        double flops = 0;
        Timing timing;
        if (args.method.empty()) {
            std::shared_ptr<const impasto::StyleNetwork> network;
            if (!args.model.empty()) {
                network = impasto::StyleNetwork::load(args.model, cpu);
            } else {
                // Speed does not depend on the values of the weights: a fresh network of this width.
                impasto::nn::TransformerNetConfig config;
                config.width = args.width;
                impasto::nn::TransformerNet net(config);
                impasto::StyleModelFile file;
                file.kind = impasto::StyleModelKind::Transformer;
                file.config = config.to_json();
                file.card.style_images.push_back({"untrained", ""});
                file.tensors = net->export_tensors();
                network = impasto::StyleNetwork::from_file(file, cpu);
            }
            impasto::FastStylizeOptions options;
            options.precision = precision;
            options.work_size = args.work_size;
            options.tiling.tile = 0;
            flops = transformer_flops(network->width(), network_size.height, network_size.width);
            what = fmt::format("transformer width {} ({:.2f}M params)", network->width(),
                               static_cast<double>(network->parameter_count()) / 1e6);
            timing = time_it(args, [&] { (void)impasto::stylize_fast(*network, content, options); });
        } else {
            const impasto::WeightStore store(impasto::default_weights_dir());
            const auto encoder =
                impasto::FeatureModel::create(impasto::load_weight_set(store.require(impasto::kDefaultWeightSet)), cpu);
            const auto decoders =
                impasto::DecoderSet::load(args.decoders.empty() ? impasto::default_models_dir() / "decoders"
                                                                : std::filesystem::path(args.decoders),
                                          cpu);
            impasto::ArbitraryOptions options;
            options.method = impasto::parse_transform_method(args.method);
            options.precision = precision;
            options.work_size = args.work_size;
            std::vector<impasto::ArbitraryStyle> styles(1);
            styles[0].image = impasto::load_image(args.style);
            const Image style_sized = impasto::resize_long_side(styles[0].image, options.style_size);
            // Each level: encode the content (and the style) to it, decode back.
            std::vector<std::string> levels = options.levels;
            if (levels.empty()) {
                levels = options.method == impasto::TransformMethod::Adain ? std::vector<std::string>{"relu4_1"}
                                                                           : decoders->levels();
            }
            for (const std::string& level : levels) {
                flops += 2 * encoder_flops(level, network_size.height, network_size.width) +
                         encoder_flops(level, style_sized.height, style_sized.width);
            }
            const auto passes = static_cast<int>(levels.size());
            what = fmt::format("{} ({} level{})", args.method, passes, passes == 1 ? "" : "s");
            timing =
                time_it(args, [&] { (void)impasto::stylize_arbitrary(*encoder, *decoders, content, styles, options); });
        }
        if (working) {
            what += fmt::format(" (network at {}x{}, guided upsampling)", network_size.width, network_size.height);
        }
        std::printf("%s at %dx%d, %s, %d threads: min %.3f s, median %.3f s, %.1f GFLOP, %.0f GFLOP/s at the min\n",
                    what.c_str(), content.width, content.height, args.precision.c_str(), args.threads, timing.min,
                    timing.median, flops / 1e9, flops / 1e9 / timing.min);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_fast: %s\n", e.what());
        return 1;
    }
}
