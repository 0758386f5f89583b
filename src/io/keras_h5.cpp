// Keras HDF5 weights via the HDF5 C API, compiled only where HDF5 was found.
#include "io/keras_h5.h"

#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "io/checked_math.h"
#include "io/file_limits.h"

#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

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

std::string dims_text(const hsize_t* dims, int rank) {
    std::string text = "[";
    for (int i = 0; i < rank; ++i) {
        text += (i > 0 ? "," : "") + std::to_string(dims[i]);
    }
    return text + "]";
}

// H5Dread allocates nothing itself, but we size its buffer from the dataspace, which the file
// states freely: a 1 KB file can declare a 10^12-element dataset whose chunks were never written
// (they read as fill values). So the size is checked against what the file stores: all of it,
// uncompressed, when there are no filters, or at most kMaxDeflateRatio times the stored bytes
// when there are, and against the per-tensor cap.
RawTensor read_dataset(hid_t file, const std::string& name, const std::string& context, std::uint64_t file_size,
                       std::uint64_t& total_bytes) {
    const std::string dataset_context = context + ": dataset " + name;
    Handle dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) {
        throw WeightsError(context + ": cannot open dataset " + name);
    }
    Handle type(H5Dget_type(dataset.get()), H5Tclose);
    const std::size_t type_size = type.valid() ? H5Tget_size(type.get()) : 0;
    if (!type.valid() || H5Tget_class(type.get()) != H5T_FLOAT ||
        (type_size != 2 && type_size != 4 && type_size != 8)) {
        throw WeightsError(dataset_context + " does not hold 16-, 32- or 64-bit floats");
    }
    Handle space(H5Dget_space(dataset.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 1 || rank > 4) {
        throw WeightsError(dataset_context + " has rank " + std::to_string(rank) + " (expected 1 to 4)");
    }
    hsize_t dims[4] = {};
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    std::vector<std::int64_t> shape;
    for (int i = 0; i < rank; ++i) {
        if (dims[i] > static_cast<hsize_t>(std::numeric_limits<std::int64_t>::max())) {
            throw WeightsError(dataset_context + " has dimensions " + dims_text(dims, rank));
        }
        shape.push_back(static_cast<std::int64_t>(dims[i]));
    }
    const auto count = checked_element_count(shape);
    const auto stored = count ? checked_byte_count(*count, type_size) : std::nullopt;
    const auto as_float = count ? checked_byte_count(*count, sizeof(float)) : std::nullopt;
    if (!stored || !as_float || *as_float > kMaxTensorBytes) {
        throw WeightsError(dataset_context + " of dimensions " + dims_text(dims, rank) +
                           " needs more than the limit of " + std::to_string(kMaxTensorBytes) + " bytes");
    }
    Handle create_plist(H5Dget_create_plist(dataset.get()), H5Pclose);
    const int filters = create_plist.valid() ? H5Pget_nfilters(create_plist.get()) : -1;
    const std::uint64_t storage = H5Dget_storage_size(dataset.get());
    const bool fits = filters == 0 ? storage >= *stored && *stored <= file_size
                                   : filters > 0 && *stored <= storage * kMaxDeflateRatio;
    if (!fits) {
        throw WeightsError(dataset_context + " of dimensions " + dims_text(dims, rank) + " needs " +
                           std::to_string(*stored) + " bytes but the file stores " + std::to_string(storage) +
                           (filters > 0 ? " compressed" : "") + " for it (file of " + std::to_string(file_size) +
                           " bytes)");
    }
    total_bytes += *as_float;
    if (total_bytes > kMaxTotalTensorBytes) {
        throw WeightsError(dataset_context + ": the datasets read so far need " + std::to_string(total_bytes) +
                           " bytes, over the limit of " + std::to_string(kMaxTotalTensorBytes));
    }
    std::vector<float> values(static_cast<std::size_t>(*count));
    // HDF5 converts the stored type (float32 here) to native float for us.
    if (H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
        throw WeightsError(context + ": reading dataset " + name + " failed");
    }
    return RawTensor::from_float(shape, values);
}

// A name for an in-memory file image that no other open file has: HDF5 takes two files of the
// same name for one and hands back the first.
std::string unique_image_name() {
    static std::atomic<std::uint64_t> counter{0};
    return "impasto-h5-image-" + std::to_string(counter.fetch_add(1));
}

} // namespace

bool keras_h5_supported() {
    return true;
}

TensorMap parse_keras_h5_conv_layers(const std::uint8_t* data, std::size_t size, const std::string& origin,
                                     const std::vector<std::string>& layers) {
    const std::string context = "reading '" + origin + "'";
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); // the library never prints; errors become exceptions
    if (!looks_like_hdf5(data, size)) {
        throw WeightsError(context + ": not an HDF5 file (signature missing)");
    }
    // The core driver on a copy of the bytes, never written back: the file is read from memory.
    Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!access.valid() || H5Pset_fapl_core(access.get(), 1U << 20U, 0) < 0 ||
        H5Pset_file_image(access.get(), const_cast<std::uint8_t*>(data), size) < 0) {
        throw WeightsError(context + ": cannot set up HDF5 to read from memory");
    }
    Handle file(H5Fopen(unique_image_name().c_str(), H5F_ACC_RDONLY, access.get()), H5Fclose);
    if (!file.valid()) {
        throw WeightsError(context + ": not a readable HDF5 file");
    }
    TensorMap tensors;
    std::uint64_t total_bytes = 0;
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
        const RawTensor kernel = read_dataset(file.get(), kernel_name, context, size, total_bytes);
        RawTensor bias = read_dataset(file.get(), bias_name, context, size, total_bytes);
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

TensorMap read_keras_h5_conv_layers(const std::filesystem::path& path, const std::vector<std::string>& layers) {
    const std::string bytes = read_file_bytes(path);
    return parse_keras_h5_conv_layers(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path.string(),
                                      layers);
}

#else

bool keras_h5_supported() {
    return false;
}

TensorMap parse_keras_h5_conv_layers(const std::uint8_t* /*data*/, std::size_t /*size*/, const std::string& origin,
                                     const std::vector<std::string>& /*layers*/) {
    throw WeightsError("reading '" + origin +
                       "': this impasto was built without HDF5; install libhdf5-dev and rebuild, or import "
                       "a safetensors or legacy torch.save file instead");
}

TensorMap read_keras_h5_conv_layers(const std::filesystem::path& path, const std::vector<std::string>& layers) {
    return parse_keras_h5_conv_layers(nullptr, 0, path.string(), layers);
}

#endif

} // namespace impasto::io
