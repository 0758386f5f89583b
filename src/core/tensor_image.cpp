#include "core/tensor_image.h"

#include <cstring>

namespace impasto::detail {

torch::Tensor image_to_tensor(const Image& image, const torch::Device& device) {
    const torch::Tensor hwc =
        torch::from_blob(const_cast<float*>(image.rgb.data()), {image.height, image.width, 3}, torch::kFloat);
    return hwc.permute({2, 0, 1}).unsqueeze(0).contiguous().to(device);
}

Image tensor_to_image(const torch::Tensor& tensor) {
    const torch::Tensor hwc =
        tensor.detach().to(torch::kCPU, torch::kFloat).clamp(0.0, 1.0).squeeze(0).permute({1, 2, 0}).contiguous();
    Image image;
    image.height = static_cast<int>(hwc.size(0));
    image.width = static_cast<int>(hwc.size(1));
    image.rgb.resize(static_cast<std::size_t>(hwc.numel()));
    std::memcpy(image.rgb.data(), hwc.data_ptr<float>(), image.rgb.size() * sizeof(float));
    return image;
}

} // namespace impasto::detail
