#include "core/torch_compat.h"
#include "impasto/device.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace impasto {
namespace {

// Reads "Key:   123 kB" from a /proc file; -1 when absent.
std::int64_t read_proc_kb(const char* file, const std::string& key) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            std::istringstream fields(line.substr(key.size() + 1));
            std::int64_t kb = -1;
            fields >> kb;
            return kb;
        }
    }
    return -1;
}

// oneDNN's own cap on the instruction sets it may use (ONEDNN_MAX_CPU_ISA, or DNNL_MAX_CPU_ISA in
// older releases): below AVX512_CORE_BF16 its convolutions emulate bf16, so it is not native.
// Setting it is also how the test suite is run on the fp32-only paths of a bf16 CPU.
bool onednn_isa_allows_bf16() {
    for (const char* variable : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
        const char* value = std::getenv(variable);
        if (value == nullptr || *value == '\0') {
            continue;
        }
        std::string isa(value);
        std::transform(isa.begin(), isa.end(), isa.begin(), [](unsigned char c) { return std::toupper(c); });
        return isa == "ALL" || isa.find("BF16") != std::string::npos || isa.find("FP16") != std::string::npos ||
               isa.find("AMX") != std::string::npos;
    }
    return true;
}

} // namespace

bool cuda_available() {
    return torch::cuda::is_available();
}

bool cpu_has_native_bf16() {
    if (!onednn_isa_allows_bf16()) {
        return false;
    }
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0) {
            return line.find(" avx512_bf16") != std::string::npos || line.find(" amx_bf16") != std::string::npos;
        }
    }
    return false;
}

bool cpu_bf16_available() {
    static const bool available = [] {
        try {
            // The first call may come from inside a caller's InferenceMode or NoGradGuard (stylize_fast,
            // stylize_arbitrary), where the backward below would fail and bf16 be cached as missing.
            const c10::InferenceMode no_inference(false);
            const torch::AutoGradMode grad(true);
            const detail::AutocastGuard autocast(c10::DeviceType::CPU, c10::kBFloat16, /*check=*/false);
            // Not torch::rand: the probe must not move the global generator a seeded run may use.
            const torch::Tensor x = torch::linspace(0, 1, 243).view({1, 3, 9, 9}).requires_grad_();
            const torch::Tensor w = torch::linspace(-1, 1, 108).view({4, 3, 3, 3});
            // A convolution and a matrix product (the Gram matrices), forward and backward.
            const torch::Tensor features = torch::conv2d(x, w, {}, 1, 1).flatten(1);
            torch::mm(features, features.t()).sum().backward();
            return x.grad().defined();
        } catch (const std::exception&) { // c10::Error, or oneDNN's own dnnl::error
            return false;
        }
    }();
    return available;
}

std::int64_t available_memory_bytes(const Device& device) {
    if (device.kind == DeviceKind::Cuda) {
        // LibTorch's C++ API has no portable free-memory query; callers budget by card size.
        return std::int64_t{64} << 30;
    }
    const std::int64_t kb = read_proc_kb("/proc/meminfo", "MemAvailable");
    return kb < 0 ? std::int64_t{4} << 30 : kb * 1024;
}

std::int64_t peak_rss_bytes() {
    const std::int64_t kb = read_proc_kb("/proc/self/status", "VmHWM");
    return kb < 0 ? 0 : kb * 1024;
}

bool reset_peak_rss() {
    // Writing 5 resets VmHWM to the current RSS (Linux >= 4.0), so each study run gets its own peak.
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.flush();
    return static_cast<bool>(clear_refs);
}

void set_num_threads(int threads) {
    torch::set_num_threads(threads);
}

int num_threads() {
    return torch::get_num_threads();
}

std::string torch_version() {
    return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
           std::to_string(TORCH_VERSION_PATCH);
}

std::string blas_library() {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        const std::size_t slash = line.find('/');
        if (slash == std::string::npos) {
            continue;
        }
        const std::string path = line.substr(slash);
        if (path.find("libblas") != std::string::npos || path.find("libopenblas") != std::string::npos ||
            path.find("libmkl") != std::string::npos) {
            char resolved[4096];
            if (realpath(path.c_str(), resolved) != nullptr) {
                return resolved;
            }
            return path;
        }
    }
    return "none loaded";
}

std::string blas_core() {
    using CoreNameFn = char* (*)();
    auto* core_name = reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    return core_name != nullptr ? std::string(core_name()) : std::string();
}

} // namespace impasto
