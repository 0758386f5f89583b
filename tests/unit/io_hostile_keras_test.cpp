// Hostile Keras HDF5 files, written here with the HDF5 C API: datasets that declare far more
// elements than the file stores (chunks never written read as fill values), and datasets that are
// not floating point. Valid contiguous and compressed files still read.
#include "impasto/error.h"
#include "io/keras_h5.h"
#include "testutil.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <string>
#include <vector>

#ifdef IMPASTO_TEST_HAVE_HDF5
#include <hdf5.h>

namespace impasto::io {
namespace {

enum class Layout { Contiguous, Compressed, Unwritten };

// Writes /block1_conv1/block1_conv1_W_1:0 (the kernel, `dims`) and .../block1_conv1_b_1:0 (the
// bias, dims[3] floats) as Keras 1 did. An unwritten kernel is created chunked and never written.
void write_keras_file(const std::filesystem::path& file, const std::vector<hsize_t>& dims, hid_t kernel_type,
                      Layout layout) {
    const hid_t h5 = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(h5, 0);
    const hid_t group = H5Gcreate2(h5, "/block1_conv1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t kernel_space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    ASSERT_GE(kernel_space, 0);
    const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
    if (layout != Layout::Contiguous) {
        std::vector<hsize_t> chunk(dims.size(), 1);
        chunk.back() = std::min<hsize_t>(dims.back(), 1024);
        H5Pset_chunk(create, static_cast<int>(chunk.size()), chunk.data());
        if (layout == Layout::Compressed) {
            H5Pset_deflate(create, 6);
        }
    }
    const hid_t kernel =
        H5Dcreate2(group, "block1_conv1_W_1:0", kernel_type, kernel_space, H5P_DEFAULT, create, H5P_DEFAULT);
    ASSERT_GE(kernel, 0);
    if (layout != Layout::Unwritten) {
        hsize_t count = 1;
        for (const hsize_t d : dims) {
            count *= d;
        }
        std::vector<float> values(count);
        for (std::size_t i = 0; i < values.size(); ++i) {
            values[i] = static_cast<float>(i % 7) - 3.0F;
        }
        H5Dwrite(kernel, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    }
    const hsize_t bias_dims[1] = {dims.back()};
    const hid_t bias_space = H5Screate_simple(1, bias_dims, nullptr);
    const hid_t bias =
        H5Dcreate2(group, "block1_conv1_b_1:0", H5T_IEEE_F32LE, bias_space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (layout != Layout::Unwritten) {
        std::vector<float> values(bias_dims[0], 0.5F);
        H5Dwrite(bias, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    }
    H5Dclose(bias);
    H5Sclose(bias_space);
    H5Dclose(kernel);
    H5Pclose(create);
    H5Sclose(kernel_space);
    H5Gclose(group);
    H5Fclose(h5);
}

std::string error_of(const std::filesystem::path& file) {
    try {
        read_keras_h5_conv_layers(file, {"block1_conv1"});
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "(no WeightsError)";
}

} // namespace

TEST(HostileKeras, ContiguousAndCompressedFilesRead) {
    impasto::testing::TempDir dir;
    for (const Layout layout : {Layout::Contiguous, Layout::Compressed}) {
        write_keras_file(dir / "ok.h5", {3, 3, 3, 2}, H5T_IEEE_F32LE, layout);
        const TensorMap tensors = read_keras_h5_conv_layers(dir / "ok.h5", {"block1_conv1"});
        EXPECT_EQ(tensors.at("block1_conv1.weight").shape, (std::vector<std::int64_t>{2, 3, 3, 3}));
        EXPECT_EQ(tensors.at("block1_conv1.bias").to_float(), (std::vector<float>{0.5F, 0.5F}));
    }
}

// A file of a few kilobytes declares a 3x3x3x2^30 kernel (108 GB of floats) it never wrote.
TEST(HostileKeras, DatasetLargerThanTheFileIsRefused) {
    impasto::testing::TempDir dir;
    write_keras_file(dir / "bomb.h5", {3, 3, 3, hsize_t{1} << 30U}, H5T_IEEE_F32LE, Layout::Unwritten);
    const std::string message = error_of(dir / "bomb.h5");
    EXPECT_NE(message.find("needs more than the limit of 1073741824 bytes"), std::string::npos) << message;
    write_keras_file(dir / "small.h5", {3, 3, 3, 64}, H5T_IEEE_F32LE, Layout::Unwritten);
    const std::string small = error_of(dir / "small.h5");
    EXPECT_NE(small.find("but the file stores 0"), std::string::npos) << small;
}

TEST(HostileKeras, DatasetsMustHoldFloats) {
    impasto::testing::TempDir dir;
    write_keras_file(dir / "ints.h5", {3, 3, 3, 2}, H5T_STD_I32LE, Layout::Contiguous);
    const std::string message = error_of(dir / "ints.h5");
    EXPECT_NE(message.find("does not hold 16-, 32- or 64-bit floats"), std::string::npos) << message;
}

} // namespace impasto::io

#endif
