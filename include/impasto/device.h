#pragma once
// Devices and machine facts. The library never picks a device: callers pass one (the CLI
// resolves `--device auto` with cuda_available()).
#include <cstdint>
#include <string>

namespace impasto {

enum class DeviceKind { Cpu, Cuda };

struct Device {
    DeviceKind kind = DeviceKind::Cpu;
    int index = 0;
    std::string str() const { return kind == DeviceKind::Cpu ? "cpu" : "cuda:" + std::to_string(index); }
};

bool cuda_available();
// True where bf16 matrix work is native: AVX512_BF16 or AMX (read from /proc/cpuinfo).
bool cpu_has_native_bf16();
// True where this build's CPU kernels can run bf16 autocast at all (natively or emulated): probed
// once per process with a small convolution, forward and backward. oneDNN refuses bf16 below
// AVX-512 (and under ONEDNN_MAX_CPU_ISA=AVX2); runs asking for bf16 then throw ConfigError.
bool cpu_bf16_available();
// MemAvailable from /proc/meminfo, or free device memory for CUDA.
std::int64_t available_memory_bytes(const Device& device);
// Peak resident set size of this process (VmHWM), in bytes.
std::int64_t peak_rss_bytes();
// Start a new peak-RSS window (Linux: /proc/self/clear_refs); false where that is not possible,
// in which case peak_rss_bytes() keeps the peak of the whole process.
bool reset_peak_rss();
void set_num_threads(int threads);
int num_threads();
std::string torch_version();
// The BLAS shared library this process loaded (decides Gram-matrix speed on Debian).
std::string blas_library();
// The kernel family OpenBLAS picked for this CPU ("SkylakeX", "Prescott", ...), or "" for other BLAS.
std::string blas_core();

} // namespace impasto
