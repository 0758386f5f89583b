#pragma once
// A finished job's files: results/<job>.png and its JSON sidecar. The image is written first and
// the sidecar last, each atomically, so a complete sidecar that names the job marks a complete
// result; removal goes the other way round. Knows nothing of the queue.
#include "impasto/image.h"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace impasto::studio {

struct ResultFileInfo {
    std::string job_id;
    std::int64_t bytes = 0;                    // image and sidecar
    std::filesystem::file_time_type last_used; // the image's modification time, renewed when served
};

class ResultFiles {
  public:
    explicit ResultFiles(std::filesystem::path dir); // created when absent

    std::filesystem::path image(const std::string& job_id) const;
    std::filesystem::path sidecar(const std::string& job_id) const;

    // Writes the image, then the sidecar with `result` ({"width", "height", "seconds"}) and the
    // image's sha256 added as sidecar["studio"]["result"]. Returns the bytes now stored. Throws
    // OutputError (or StorageError when the disk is full); neither file is left on failure.
    std::int64_t write(const std::string& job_id, const Image& image, nlohmann::json sidecar,
                       const nlohmann::json& result) const;
    // The bytes of both files now (0 when absent).
    std::int64_t bytes(const std::string& job_id) const;
    // Removes both files; returns the bytes freed (0 when there were none).
    std::int64_t remove(const std::string& job_id) const;
    // The result object when both files are there, the sidecar parses, names this job and holds
    // its result, and the image has the recorded sha256 and decodes to the recorded size: what a
    // crash between writing the files and recording the job left complete. nullopt otherwise.
    std::optional<nlohmann::json> complete_result(const std::string& job_id) const;
    // Marks the result as just used (least-recently-used retention reads it back).
    void touch(const std::string& job_id) const;
    // Every result on disk (by its image), in no particular order.
    std::vector<ResultFileInfo> scan() const;

    const std::filesystem::path& dir() const { return dir_; }

  private:
    std::filesystem::path dir_;
};

// The size of a file, 0 when it is absent.
std::int64_t file_bytes_or_zero(const std::filesystem::path& file);

} // namespace impasto::studio
