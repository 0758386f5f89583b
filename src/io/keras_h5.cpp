// Keras HDF5 weights via the HDF5 C API, compiled only where HDF5 was found.
#include "io/keras_h5.h"

#include "impasto/error.h"

#include <cstring>
#include <memory>

#ifdef IMPASTO_HAVE_HDF5
#include <hdf5.h>
#endif

namespace impasto::io {

bool looks_like_hdf5(const std::uint8_t* data, std::size_t size) {
    static const std::uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    return size >= 8 && std::memcmp(data, kSignature, 8) == 0;
}

#ifdef IMPASTO_HAVE_HDF5

namespace {

// Closes an HDF5 handle with the function that matches its kind.
class Handle {
  public:
    Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    ~Handle() {
        if (id_ >= 0) {
            close_(id_);
        }
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }

  private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

bool link_exists(hid_t file, const std::string& path) {
    // H5Lexists needs every intermediate group to exist, so check the path one component at a time.
    std::size_t pos = 0;
    while ((pos = path.find('/', pos + 1)) != std::string::npos) {
        if (H5Lexists(file, path.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) {
            return false;
        }
    }
    return H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0;
}

RawTensor read_dataset(hid_t file, const std::string& name, const std::string& context) {
    Handle dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) {
        throw WeightsError(context + ": cannot open dataset " + name);
    }
    Handle space(H5Dget_space(dataset.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 1 || rank > 4) {
        throw WeightsError(context + ": dataset " + name + " has rank " + std::to_string(rank));
    }
    hsize_t dims[4] = {};
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    std::vector<std::int64_t> shape(dims, dims + rank);
    RawTensor tensor;
    tensor.shape = shape;
    std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
    // HDF5 converts the stored type (float32 here) to native float for us.
    if (H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
        throw WeightsError(context + ": reading dataset " + name + " failed");
    }
    return RawTensor::from_float(shape, values);
}

} // namespace

bool keras_h5_supported() {
    return true;
}

TensorMap read_keras_h5_conv_layers(const std::filesystem::path& path, const std::vector<std::string>& layers) {
    const std::string context = "reading '" + path.string() + "'";
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); // the library never prints; errors become exceptions
    if (!std::filesystem::exists(path)) {
        throw WeightsError(context + ": file not found");
    }
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) {
        throw WeightsError(context + ": not a readable HDF5 file");
    }
    TensorMap tensors;
    for (const auto& layer : layers) {
        std::string kernel_name = "/" + layer + "/" + layer + "_W_1:0";
        std::string bias_name = "/" + layer + "/" + layer + "_b_1:0";
        if (!link_exists(file.get(), kernel_name)) {
            kernel_name = "/" + layer + "/" + layer + "/kernel:0";
            bias_name = "/" + layer + "/" + layer + "/bias:0";
        }
        if (!link_exists(file.get(), kernel_name) || !link_exists(file.get(), bias_name)) {
            throw WeightsError(context + ": layer " + layer + " not found (expected /" + layer + "/" + layer +
                               "_W_1:0 or /" + layer + "/" + layer + "/kernel:0)");
        }
        const RawTensor kernel = read_dataset(file.get(), kernel_name, context);
        RawTensor bias = read_dataset(file.get(), bias_name, context);
        const auto& s = kernel.shape; // [kh, kw, in, out]
        if (s.size() != 4 || bias.shape.size() != 1 || bias.shape[0] != s[3]) {
            throw WeightsError(context + ": layer " + layer + " has an unexpected kernel or bias shape");
        }
        const std::vector<float> hwio = kernel.to_float();
        std::vector<float> oihw(hwio.size());
        const std::int64_t kh = s[0], kw = s[1], in = s[2], out = s[3];
        for (std::int64_t y = 0; y < kh; ++y) {
            for (std::int64_t x = 0; x < kw; ++x) {
                for (std::int64_t i = 0; i < in; ++i) {
                    for (std::int64_t o = 0; o < out; ++o) {
                        oihw[((o * in + i) * kh + y) * kw + x] = hwio[((y * kw + x) * in + i) * out + o];
                    }
                }
            }
        }
        tensors[layer + ".weight"] = RawTensor::from_float({out, in, kh, kw}, oihw);
        tensors[layer + ".bias"] = std::move(bias);
    }
    return tensors;
}

#else

bool keras_h5_supported() {
    return false;
}

TensorMap read_keras_h5_conv_layers(const std::filesystem::path& path, const std::vector<std::string>& layers) {
    throw WeightsError("reading '" + path.string() +
                       "': this impasto was built without HDF5; install libhdf5-dev and rebuild, or import "
                       "a safetensors or legacy torch.save file instead");
}

#endif

} // namespace impasto::io
