#include "impasto/batch.h"
#include "impasto/error.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace impasto {
namespace {

// A blocking FIFO with a capacity; close() wakes everyone and makes pop() drain then end.
template <class T> class BoundedQueue {
  public:
    explicit BoundedQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

    // False when the queue was closed before there was room.
    bool push(T value) {
        std::unique_lock<std::mutex> lock(mutex_);
        not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
        if (closed_) {
            return false;
        }
        items_.push_back(std::move(value));
        not_empty_.notify_one();
        return true;
    }
    // Nothing when the queue is empty right now.
    std::optional<T> try_pop() {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (items_.empty()) {
            return std::nullopt;
        }
        T value = std::move(items_.front());
        items_.pop_front();
        not_full_.notify_one();
        return value;
    }
    std::optional<T> pop() {
        std::unique_lock<std::mutex> lock(mutex_);
        not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) {
            return std::nullopt;
        }
        T value = std::move(items_.front());
        items_.pop_front();
        not_full_.notify_one();
        return value;
    }
    void close() {
        const std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        not_empty_.notify_all();
        not_full_.notify_all();
    }

  private:
    std::size_t capacity_;
    std::deque<T> items_;
    bool closed_ = false;
    std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
};

// One item on its way through the stages: an image to work on, or a result already settled.
struct Work {
    std::size_t index = 0;
    Image image;
    BatchItemResult result;
    bool settled = false; // failed to decode, or skipped
};

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

bool is_known_extension(const std::string& extension) {
    const auto& known = known_image_extensions();
    return std::find(known.begin(), known.end(), lower(extension)) != known.end();
}

} // namespace

void BatchOptions::validate() const {
    if (queue_depth < 1 || queue_depth > 64) {
        throw ConfigError("queue_depth = " + std::to_string(queue_depth) + " is out of range; allowed: 1..64");
    }
    if (jpeg_quality < 1 || jpeg_quality > 100) {
        throw ConfigError("jpeg_quality = " + std::to_string(jpeg_quality) + " is out of range; allowed: 1..100");
    }
}

std::vector<BatchItem> plan_batch(const std::filesystem::path& input_dir, const std::filesystem::path& output_dir,
                                  const std::string& extension) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(input_dir, ec)) {
        throw InputError("input folder '" + input_dir.string() + "' does not exist or is not a folder");
    }
    if (!is_known_extension(extension)) {
        std::string known;
        for (const std::string& e : known_image_extensions()) {
            known += (known.empty() ? "" : " ") + e;
        }
        throw OutputError("output format '" + extension + "' is unknown; allowed: " + known);
    }
    std::vector<fs::path> inputs;
    for (const fs::directory_entry& entry : fs::directory_iterator(input_dir, ec)) {
        if (entry.is_regular_file(ec) && is_known_extension(entry.path().extension().string())) {
            inputs.push_back(entry.path());
        }
    }
    if (ec) {
        throw InputError("reading folder '" + input_dir.string() + "': " + ec.message());
    }
    if (inputs.empty()) {
        throw InputError("input folder '" + input_dir.string() + "' holds no image (.jpg .png .bmp .tif .webp)");
    }
    std::sort(inputs.begin(), inputs.end());
    fs::create_directories(output_dir, ec);
    if (ec || !fs::is_directory(output_dir)) {
        throw OutputError("cannot create output folder '" + output_dir.string() + "'" +
                          (ec ? ": " + ec.message() : std::string()));
    }
    if (fs::equivalent(input_dir, output_dir, ec)) {
        throw OutputError("output folder '" + output_dir.string() + "' is the input folder; choose another");
    }
    std::vector<BatchItem> items;
    items.reserve(inputs.size());
    for (const fs::path& input : inputs) {
        items.push_back({input, output_dir / (input.stem().string() + lower(extension))});
    }
    // Two inputs with one stem (a.jpg, a.png) would overwrite each other's output.
    for (std::size_t i = 1; i < items.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (items[i].output == items[j].output) {
                throw InputError("'" + items[j].input.filename().string() + "' and '" +
                                 items[i].input.filename().string() + "' would both write '" +
                                 items[i].output.filename().string() + "'");
            }
        }
    }
    return items;
}

BatchSummary run_batch(const std::vector<BatchItem>& items, const ImageTransform& transform,
                       const BatchOptions& options, const BatchCallback& on_item) {
    options.validate();
    const auto start = std::chrono::steady_clock::now();
    const auto depth = static_cast<std::size_t>(options.queue_depth);
    BoundedQueue<Work> decoded(depth);
    BoundedQueue<Work> to_encode(depth);
    BoundedQueue<Work> finished(items.size() + 1); // never blocks: the encoder must not wait on us
    std::atomic<bool> stop{false};
    std::exception_ptr worker_failure;
    std::mutex failure_mutex;
    auto record_failure = [&](std::exception_ptr failure) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!worker_failure) {
            worker_failure = std::move(failure);
        }
        stop = true;
    };

    std::thread decoder([&] {
        try {
            for (std::size_t i = 0; i < items.size() && !stop; ++i) {
                Work work;
                work.index = i;
                work.result.item = items[i];
                if (options.skip_existing && std::filesystem::exists(items[i].output)) {
                    work.result.skipped = true;
                    work.settled = true;
                } else {
                    try {
                        work.image = load_image(items[i].input);
                    } catch (const Error& e) {
                        work.result.error = e.what();
                        work.settled = true;
                    }
                }
                if (!decoded.push(std::move(work))) {
                    break;
                }
            }
        } catch (...) {
            record_failure(std::current_exception());
        }
        decoded.close();
    });
    std::thread encoder([&] {
        try {
            while (std::optional<Work> work = to_encode.pop()) {
                if (!work->settled) {
                    try {
                        save_image(work->image, work->result.item.output, options.jpeg_quality);
                        work->result.ok = true;
                    } catch (const Error& e) {
                        work->result.error = e.what();
                    }
                    work->image = Image{};
                }
                finished.push(std::move(*work));
            }
        } catch (...) {
            record_failure(std::current_exception());
        }
        finished.close();
    });

    BatchSummary summary;
    std::vector<std::optional<BatchItemResult>> results(items.size());
    std::size_t done = 0;
    // Callbacks run here, on the caller's thread, as results come back from the encoder.
    auto report = [&](Work& work) {
        results[work.index] = work.result;
        ++done;
        if (on_item) {
            BatchEvent event;
            event.done = done;
            event.total = items.size();
            event.item = &*results[work.index];
            event.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (!on_item(event)) {
                summary.cancelled = true;
                stop = true;
            }
        }
    };
    std::exception_ptr transform_failure;
    while (!stop) {
        std::optional<Work> work = decoded.pop();
        if (!work) {
            break;
        }
        if (!work->settled) {
            const auto t0 = std::chrono::steady_clock::now();
            try {
                Image out = transform(work->image);
                work->result.width = out.width;
                work->result.height = out.height;
                work->image = std::move(out);
            } catch (const Error& e) {
                work->result.error = e.what();
                work->settled = true;
                work->image = Image{};
            } catch (...) {
                transform_failure = std::current_exception();
                stop = true;
                break;
            }
            work->result.stylize_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        to_encode.push(std::move(*work));
        // Report whatever the encoder has finished, without waiting for the rest.
        while (std::optional<Work> result = finished.try_pop()) {
            report(*result);
        }
    }
    decoded.close();
    to_encode.close();
    decoder.join();
    while (std::optional<Work> work = finished.pop()) {
        report(*work);
    }
    encoder.join();
    if (transform_failure) {
        std::rethrow_exception(transform_failure);
    }
    if (worker_failure) {
        std::rethrow_exception(worker_failure);
    }
    summary.cancelled = summary.cancelled || (stop && done < items.size());
    for (std::optional<BatchItemResult>& result : results) {
        if (!result) {
            continue;
        }
        summary.written += result->ok ? 1 : 0;
        summary.skipped += result->skipped ? 1 : 0;
        summary.failed += (!result->ok && !result->skipped) ? 1 : 0;
        summary.items.push_back(std::move(*result));
    }
    summary.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

} // namespace impasto
