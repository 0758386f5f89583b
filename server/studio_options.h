#pragma once
// Everything `impasto serve` can be told, with its defaults defined once here: the CLI's help,
// the server and GET /api/info read this struct.
#include "impasto/device.h"
#include "impasto/stylize_options.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace impasto::studio {

struct StudioOptions {
    std::string host = "127.0.0.1";
    int port = 8765;                // 0 = any free port (the chosen one is reported once listening)
    std::filesystem::path data_dir; // the queue's database, uploads and results; required
    // Required when `host` is not a loopback address; then every request must carry it.
    std::string token;
    int workers = 1;            // jobs run at once; each shares the loaded weights
    int max_event_streams = 16; // open /events streams; the HTTP pool is sized above this
    std::int64_t max_upload_bytes = 32LL * 1024 * 1024;
    std::int64_t max_pixels = 40'000'000; // decode limit of an upload, checked on its header
    int max_output_side = 2048;           // largest `size` a job may ask for
    int preview_every = 10;               // optimiser iterations between live previews
    int preview_side = 512;               // long side of a preview image
    std::filesystem::path gallery_dir;    // ../shared/images: style/ paintings, content/ samples; "" = none
    std::filesystem::path models_dir;     // fast-style models, and decoders/ for arbitrary style
    std::filesystem::path weights_dir;    // installed VGG weight sets
    std::string weight_set = "vgg19.caffe";
    Device device;                         // resolved by the caller (the library never picks one)
    Precision precision = Precision::Fp32; // resolved by the caller ("auto" is the CLI's business)
    int threads = 1;                       // intra-op threads shared by the workers
    // Receiving one request (line, headers, body) must end within this; a client trickling bytes
    // would otherwise hold an HTTP thread for as long as it likes.
    int request_timeout_seconds = 60;

    // Limits, quotas and retention (docs/studio_limits.md). A client is a remote address.
    std::int64_t max_queued_jobs = 1000;                       // jobs waiting or running, in all
    std::int64_t max_queued_per_client = 100;                  // the same, per client
    std::int64_t max_stored_bytes = 10LL * 1024 * 1024 * 1024; // uploads, results and the database
    std::int64_t max_uploads = 10000;                          // stored uploads, in all
    int keep_days = 0;                                         // remove what was not used for this long; 0 = keep
    std::int64_t keep_bytes = 0;                               // evict least recently used above this; 0 = off
    int max_attempts = 3;                                      // runs a job may crash before it is failed

    // Throws ConfigError naming the field, the value and the allowed range.
    void validate() const;
};

} // namespace impasto::studio
