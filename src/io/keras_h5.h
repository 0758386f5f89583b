#pragma once
// Keras VGG weight files (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5) through the HDF5 C API.
// Available only when impasto was built with HDF5 (IMPASTO_HAVE_HDF5); otherwise it throws.
#include "impasto/raw_tensor.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace impasto::io {

bool keras_h5_supported();
// The 8-byte HDF5 signature "\x89HDF\r\n\x1a\n" at offset 0.
bool looks_like_hdf5(const std::uint8_t* data, std::size_t size);

// For each Keras layer name ("block1_conv1"), reads the kernel [3,3,in,out] and the bias and
// returns "<layer>.weight" transposed to [out,in,3,3] and "<layer>.bias", both F32.
// Accepts both the Keras 1 names ("<layer>_W_1:0") and the Keras 2 names ("<layer>/kernel:0").
// Throws WeightsError when the file or a dataset is missing, is not floating point, has an
// unexpected shape, or declares more elements than the file stores (or than the caps allow).
TensorMap read_keras_h5_conv_layers(const std::filesystem::path& path, const std::vector<std::string>& layers);
// The same from the bytes of a file in memory (`origin` names it in errors).
TensorMap parse_keras_h5_conv_layers(const std::uint8_t* data, std::size_t size, const std::string& origin,
                                     const std::vector<std::string>& layers);

} // namespace impasto::io
