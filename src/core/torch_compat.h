#pragma once
// The only place that knows how LibTorch 1.13 (Debian) and 2.x (CUDA machines) differ.
#include "impasto/device.h"
#include "impasto/error.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace impasto::detail {

inline constexpr bool kTorchAtLeast24 = TORCH_VERSION_MAJOR > 2 ||
                                        (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4);

// Enables autocast for one device type in this thread and restores the previous state on
// exit. Autocast state is thread-local and LibTorch has no public RAII guard for it.
class AutocastGuard {
  public:
    // `check` is off only for the probe behind cpu_bf16_available().
    AutocastGuard(c10::DeviceType device, c10::ScalarType dtype, bool check = true) : device_(device) {
        if (dtype == c10::kFloat) {
            return; // full precision: nothing to switch
        }
        if (check && device == c10::DeviceType::CPU && !cpu_bf16_available()) {
            throw ConfigError("bf16 is not available on this CPU (its oneDNN kernels have no bf16 convolution for "
                              "this instruction set); use fp32");
        }
        active_ = true;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        previous_enabled_ = at::autocast::is_autocast_enabled(device_);
        previous_dtype_ = at::autocast::get_autocast_dtype(device_);
        at::autocast::set_autocast_dtype(device_, dtype);
        at::autocast::set_autocast_enabled(device_, true);
#else
        if (device_ == c10::DeviceType::CPU) {
            previous_enabled_ = at::autocast::is_cpu_enabled();
            previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
            at::autocast::set_autocast_cpu_dtype(dtype);
            at::autocast::set_cpu_enabled(true);
        } else {
            previous_enabled_ = at::autocast::is_enabled();
            previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
            at::autocast::set_autocast_gpu_dtype(dtype);
            at::autocast::set_enabled(true);
        }
#endif
    }
    ~AutocastGuard() {
        if (!active_) {
            return;
        }
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_enabled(device_, previous_enabled_);
        at::autocast::set_autocast_dtype(device_, previous_dtype_);
#else
        if (device_ == c10::DeviceType::CPU) {
            at::autocast::set_cpu_enabled(previous_enabled_);
            at::autocast::set_autocast_cpu_dtype(previous_dtype_);
        } else {
            at::autocast::set_enabled(previous_enabled_);
            at::autocast::set_autocast_gpu_dtype(previous_dtype_);
        }
#endif
        at::autocast::clear_cache();
    }
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

  private:
    c10::DeviceType device_;
    bool active_ = false;
    bool previous_enabled_ = false;
    c10::ScalarType previous_dtype_ = c10::kFloat;
};

// 2.x zero_grad() sets gradients to None by default; 1.13 zeroes them. Ours must not care.
inline void clear_grad(torch::Tensor& tensor) {
    if (tensor.grad().defined()) {
        tensor.mutable_grad().zero_();
    }
}

} // namespace impasto::detail
