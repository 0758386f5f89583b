#pragma once
// Training crops from folders of photos. Sample b of step s depends only on (seed, s, b): which
// photo (an epoch-wise shuffle of the sorted file list), its random rescale, crop position and
// flip. So a run resumed at step s sees exactly the batches the uninterrupted run would have.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace impasto::train {

// Every image (jpg, jpeg, png, bmp, tif, tiff, webp; any case) under `folders`, recursively,
// sorted by path. Throws InputError when a folder is missing or no folder holds an image.
std::vector<std::filesystem::path> list_training_images(const std::vector<std::filesystem::path>& folders);

struct DatasetOptions {
    int batch = 4;
    int crop = 256;
    std::uint64_t seed = 0;
    double color_jitter = 0; // probability of a random channel permutation and saturation scale
};

class ImageFolderDataset {
  public:
    ImageFolderDataset(std::vector<std::filesystem::path> files, const DatasetOptions& options);
    // Batch `step` (0-based) as planar float RGB in [0,1]: batch x 3 x crop x crop, row-major.
    // Throws InputError naming the file that fails to decode.
    std::vector<float> batch(std::int64_t step) const;
    // Which file sample `index` (= step * batch + b) reads: an epoch-wise permutation.
    std::size_t file_index(std::int64_t index) const;

    const std::vector<std::filesystem::path>& files() const { return files_; }
    const DatasetOptions& options() const { return options_; }

  private:
    void sample(std::int64_t index, float* planar) const;

    std::vector<std::filesystem::path> files_;
    DatasetOptions options_;
    mutable std::mutex order_mutex_; // the loader's workers share the epoch orders
    mutable std::map<std::int64_t, std::shared_ptr<const std::vector<std::uint32_t>>> orders_;
};

// Decodes batches [first_step, end_step) ahead of the consumer on `threads` workers, at most
// `prefetch` batches ahead, and hands them out in step order. A worker's exception is rethrown by
// next() for the step that raised it. The destructor stops and joins the workers.
class BatchLoader {
  public:
    BatchLoader(const ImageFolderDataset& dataset, std::int64_t first_step, std::int64_t end_step, int threads,
                int prefetch);
    ~BatchLoader();
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    // The batch of the next step, in order. Throws what its worker threw.
    std::vector<float> next();

  private:
    struct Slot {
        std::vector<float> data;
        std::exception_ptr error;
    };
    void work();
    void stop();

    const ImageFolderDataset& dataset_;
    std::int64_t end_step_;
    int prefetch_;
    std::mutex mutex_;
    std::condition_variable ready_; // a slot was filled
    std::condition_variable room_;  // the consumer moved on: workers may claim further steps
    std::int64_t next_claim_;       // the next step a worker takes
    std::int64_t next_consume_;     // the next step next() returns
    std::map<std::int64_t, Slot> done_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

} // namespace impasto::train
