#pragma once
// Conversions between impasto::Image (interleaved RGB [0,1]) and [1,3,H,W] float tensors.
#include "core/torch_compat.h"
#include "impasto/image.h"

namespace impasto::detail {

torch::Tensor image_to_tensor(const Image& image, const torch::Device& device);
// Clamps to [0,1]; accepts any float dtype and device.
Image tensor_to_image(const torch::Tensor& tensor);

} // namespace impasto::detail
