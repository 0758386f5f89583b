// One Gatys optimisation iteration on the CPU: the default preset's objective (VGG19 forward
// to relu5_1, content + Gram style + TV losses) and the backward pass to the input image,
// with the real vgg19.caffe weights. Next to it, "roofline" peers measured in the same binary
// on the same threads: a 4096² torch::mm and a VGG-sized 3x3 convolution, fp32 and bf16.
//
//   build/bin/bench_iteration --benchmark_repetitions=3 [--with-1024] [--threads=N]
//
// FLOP model (1 multiply-add = 2 FLOP), square input S x S, VGG19 conv1_1 ... conv5_1:
//   forward  F = sum over convs of 2 * Cin * Cout * 9 * H_l * W_l   (H_l = S / stride_l)
//   backward to the input: grad_input of a 3x3 stride-1 conv is a transposed conv with the same
//            multiply-adds, so B = F. The weights are frozen (no grad_weight, which would be
//            another F), and conv1_1 is included because the image itself needs its gradient.
//   iteration = F + B = 2F. At 512²: F = 189.35 GFLOP, 2F = 378.7 GFLOP (FACTS.md: "about 380").
// The Gram matrices (5 style layers, 2*N²*M forward and about the same backward) add about
// 18 GFLOP at 512² (~5%); they are reported apart (GFLOP_gram), not in GFLOP/s.
#include "core/torch_compat.h"
#include "gatys/objective.h"
#include "impasto/device.h"
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/model.h"
#include "impasto/stylize_options.h"
#include "impasto/weights.h"
#include "nn/vgg.h"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <chrono>
#include <cstdlib>
#include <dlfcn.h>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

int g_threads = 2;

// Conv FLOP (forward only) of VGG19 up to and including `last_layer`, for an S x S input.
double vgg_forward_flop(int size, const std::string& last_layer) {
    const auto arch = impasto::VggArchitecture::Vgg19;
    const int last = impasto::layer_index(last_layer, arch);
    double flop = 0;
    int in_channels = 3;
    const auto& names = impasto::layer_names(arch);
    for (int i = 0; i <= last; ++i) {
        const std::string& name = names[static_cast<std::size_t>(i)];
        if (name.rfind("conv", 0) != 0) {
            continue;
        }
        const int out_channels = impasto::layer_channels(name, arch);
        const double side = static_cast<double>(size) / impasto::layer_stride(name, arch);
        flop += 2.0 * in_channels * out_channels * 9.0 * side * side;
        in_channels = out_channels;
    }
    return flop;
}

// Gram matrices of the style layers: forward 2*N²*M, backward dF = (dG + dG^T) F, another 2*N²*M.
double gram_flop(int size, const std::vector<std::string>& style_layers) {
    double flop = 0;
    for (const std::string& name : style_layers) {
        const double n = impasto::layer_channels(name);
        const double side = static_cast<double>(size) / impasto::layer_stride(name);
        flop += 2.0 * (2.0 * n * n * side * side);
    }
    return flop;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const char* precision_name(bool bf16) {
    return bf16 ? "bf16" : "fp32";
}

// ---- roofline peers: measured once per process, shared by the fraction-of-peak counters ----

torch::Tensor matmul_once(const torch::Tensor& a, const torch::Tensor& b) {
    return torch::mm(a, b);
}

constexpr int kMatmulN = 4096;
double matmul_flop() {
    return 2.0 * kMatmulN * static_cast<double>(kMatmulN) * kMatmulN;
}

// conv4_x-sized layer of a 512² iteration: 512 -> 512, 3x3, 64x64.
constexpr int kConvChannels = 512;
constexpr int kConvSide = 64;
double conv_flop() {
    return 2.0 * kConvChannels * static_cast<double>(kConvChannels) * 9.0 * kConvSide * kConvSide;
}

struct PeakInputs {
    torch::Tensor a, b;      // matmul
    torch::Tensor x, weight; // conv
};

PeakInputs make_peak_inputs(bool bf16) {
    torch::manual_seed(1);
    const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat;
    PeakInputs p;
    p.a = torch::randn({kMatmulN, kMatmulN}).to(dtype);
    p.b = torch::randn({kMatmulN, kMatmulN}).to(dtype);
    p.x = torch::randn({1, kConvChannels, kConvSide, kConvSide}).to(dtype);
    p.weight = (torch::randn({kConvChannels, kConvChannels, 3, 3}) * 0.01).to(dtype);
    return p;
}

// Best of a few timed runs after one warm-up: GFLOP/s of 4096² mm or of the conv.
double measure_peak_gflops(bool bf16, bool conv) {
    torch::NoGradGuard no_grad;
    const PeakInputs p = make_peak_inputs(bf16);
    auto run = [&] { return conv ? torch::conv2d(p.x, p.weight, {}, 1, 1) : matmul_once(p.a, p.b); };
    run();
    double best = 1e30;
    for (int i = 0; i < 3; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const torch::Tensor out = run();
        best = std::min(best, seconds_since(start));
    }
    return (conv ? conv_flop() : matmul_flop()) / best / 1e9;
}

double cached_peak(bool bf16, bool conv) {
    static std::map<std::pair<bool, bool>, double> cache;
    const auto key = std::make_pair(bf16, conv);
    auto it = cache.find(key);
    if (it == cache.end()) {
        it = cache.emplace(key, measure_peak_gflops(bf16, conv)).first;
    }
    return it->second;
}

void BM_Roofline(benchmark::State& state, bool bf16, bool conv) {
    impasto::set_num_threads(g_threads);
    torch::NoGradGuard no_grad;
    const PeakInputs p = make_peak_inputs(bf16);
    auto run = [&] { return conv ? torch::conv2d(p.x, p.weight, {}, 1, 1) : matmul_once(p.a, p.b); };
    run(); // warm-up
    run();
    double total = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        torch::Tensor out = run();
        benchmark::DoNotOptimize(out.data_ptr());
        total += seconds_since(start);
    }
    const double flop = conv ? conv_flop() : matmul_flop();
    const auto iters = static_cast<double>(state.iterations());
    state.counters["GFLOP"] = flop / 1e9;
    state.counters["GFLOP_per_s"] = flop * iters / total / 1e9;
    state.counters["threads"] = impasto::num_threads();
    state.SetLabel(std::string(conv ? "conv 512->512 3x3 @64x64 " : "mm 4096x4096x4096 ") + precision_name(bf16));
}

// ---- the iteration ----

std::shared_ptr<const impasto::FeatureModel> load_model(std::string& error) {
    static std::shared_ptr<const impasto::FeatureModel> model;
    static std::string load_error;
    static bool tried = false;
    if (!tried) {
        tried = true;
        try {
            const impasto::WeightStore store(impasto::default_weights_dir());
            const impasto::WeightSetInfo info = store.require(impasto::kDefaultWeightSet);
            model = impasto::FeatureModel::create(impasto::load_weight_set(info), impasto::Device{});
        } catch (const impasto::Error& e) {
            load_error = e.what();
        }
    }
    error = load_error;
    return model;
}

// One objective per (size, precision), built and warmed up once and reused by the repetitions.
struct Fixture {
    impasto::StylizeOptions options;
    torch::Tensor content;
    std::vector<torch::Tensor> styles;
    std::unique_ptr<impasto::gatys::GatysObjective> objective;
    torch::Tensor x;
};

void run_iteration(Fixture& f) {
    if (f.x.grad().defined()) {
        f.x.mutable_grad().zero_();
    }
    impasto::LossValues values;
    torch::Tensor loss = f.objective->evaluate(f.x, values);
    loss.backward();
    benchmark::DoNotOptimize(f.x.grad().data_ptr());
}

Fixture* get_fixture(const impasto::FeatureModel& model, int size, bool bf16) {
    static std::map<std::pair<int, bool>, std::unique_ptr<Fixture>> cache;
    const auto key = std::make_pair(size, bf16);
    auto it = cache.find(key);
    if (it != cache.end()) {
        return it->second.get();
    }
    auto f = std::make_unique<Fixture>();
    f->options = impasto::preset_options("default");
    f->options.precision = bf16 ? impasto::Precision::Bf16 : impasto::Precision::Fp32;
    f->options.size = size;
    f->options.validate();
    torch::manual_seed(0);
    // Random images: the work of an iteration depends on the shapes only. Style at the same size
    // (style_scale = 1 in the default preset).
    f->content = torch::rand({1, 3, size, size});
    f->styles = {torch::rand({1, 3, size, size})};
    f->objective = std::make_unique<impasto::gatys::GatysObjective>(model.impl(), f->options, f->content, f->styles,
                                                                    std::vector<double>{1.0});
    f->x = f->content.clone().requires_grad_(true);
    for (int i = 0; i < 2; ++i) { // untimed warm-up: oneDNN primitive creation, allocator
        run_iteration(*f);
    }
    return cache.emplace(key, std::move(f)).first->second.get();
}

void BM_Iteration(benchmark::State& state, int size, bool bf16) {
    impasto::set_num_threads(g_threads);
    std::string error;
    const auto model = load_model(error);
    if (!model) {
        state.SkipWithError(("weights not available: " + error).c_str());
        return;
    }
    if (bf16 && !impasto::cpu_has_native_bf16()) {
        state.SetLabel("note: no native bf16 on this CPU");
    }
    Fixture* f = get_fixture(*model, size, bf16);
    const double peak_mm = cached_peak(bf16, false);
    const double peak_conv = cached_peak(bf16, true);

    double total = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        run_iteration(*f);
        total += seconds_since(start);
    }
    const auto iters = static_cast<double>(state.iterations());
    const std::string deepest = "conv5_1"; // relu5_1 is the deepest layer of the default preset
    const double flop = 2.0 * vgg_forward_flop(size, deepest);
    const double gflops = flop * iters / total / 1e9;
    state.counters["s_per_iter"] = total / iters;
    state.counters["GFLOP"] = flop / 1e9;
    state.counters["GFLOP_gram"] = gram_flop(size, f->options.style_layers) / 1e9;
    state.counters["GFLOP_per_s"] = gflops;
    state.counters["mm_peak_GFLOPs"] = peak_mm;
    state.counters["frac_mm_peak"] = gflops / peak_mm;
    state.counters["frac_conv_peak"] = gflops / peak_conv;
    state.counters["threads"] = impasto::num_threads();
    state.counters["peak_rss_GB"] = static_cast<double>(impasto::peak_rss_bytes()) / 1e9; // process HWM so far
    state.SetLabel(std::to_string(size) + "x" + std::to_string(size) + " " + precision_name(bf16) +
                   " default preset, fwd to relu5_1 + bwd to input");
}

// Aggregates across repetitions. Google Benchmark applies each one to the time and to every
// counter alike: read times (and s_per_iter) in the "min" row, rates (GFLOP_per_s, frac_*) in
// the "max" row; both rows describe the same best repetition.
double min_of(const std::vector<double>& v) {
    return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}
double max_of(const std::vector<double>& v) {
    return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
}

// OpenBLAS picks its kernels from CPUID; in a VM that hides the model it falls back to
// "Prescott" (SSE3), which is what torch::mm and so the Gram matrices run on. Report it.
std::string openblas_core() {
    using Fn = char* (*)();
    auto* fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    return fn ? std::string(fn()) : std::string("n/a (not OpenBLAS)");
}

void add_common(benchmark::internal::Benchmark* b, int iterations) {
    b->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(iterations)
        ->ComputeStatistics("min", min_of)
        ->ComputeStatistics("max", max_of);
}

} // namespace

int main(int argc, char** argv) {
    // Our own flags, removed before Google Benchmark sees argv.
    bool with_1024 = false;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--with-1024") {
            with_1024 = true;
        } else if (arg.rfind("--threads=", 0) == 0) {
            g_threads = std::max(1, std::atoi(arg.c_str() + 10));
        } else {
            args.push_back(argv[i]);
        }
    }
    int count = static_cast<int>(args.size());
    impasto::set_num_threads(g_threads);

    for (bool bf16 : {false, true}) {
        for (bool conv : {false, true}) {
            const std::string name =
                std::string("BM_Roofline/") + (conv ? "conv3x3_512" : "mm4096") + "/" + precision_name(bf16);
            add_common(benchmark::RegisterBenchmark(name.c_str(), BM_Roofline, bf16, conv), conv ? 10 : 3);
        }
    }
    std::vector<int> sizes{256, 512};
    if (with_1024) {
        sizes.push_back(1024);
    }
    for (int size : sizes) {
        for (bool bf16 : {false, true}) {
            const std::string name = "BM_Iteration/" + std::to_string(size) + "/" + precision_name(bf16);
            add_common(benchmark::RegisterBenchmark(name.c_str(), BM_Iteration, size, bf16),
                       size <= 256 ? 8 : (size <= 512 ? 3 : 1));
        }
    }
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) {
        return 1;
    }
    benchmark::AddCustomContext("threads", std::to_string(g_threads));
    benchmark::AddCustomContext("torch", impasto::torch_version());
    benchmark::AddCustomContext("blas", impasto::blas_library());
    benchmark::AddCustomContext("openblas_core", openblas_core());
    benchmark::AddCustomContext("native_bf16", impasto::cpu_has_native_bf16() ? "yes" : "no");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
