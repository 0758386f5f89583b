#include "server/result_files.h"

#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "io/json_numbers.h"
#include "io/regular_file.h"
#include "io/sha256.h"
#include "server/storage_error.h"
#include "server/stored_json.h"

#include <fstream>
#include <sstream>

namespace impasto::studio {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_small_file(const fs::path& file, std::size_t limit) {
    try {
        return io::read_regular_file(file, limit); // regular files only: a FIFO here would never end
    } catch (const InputError&) {
        return {};
    }
}

bool positive_int(const json& object, const char* key) {
    const auto found = object.find(key);
    return found != object.end() && io::whole_number(*found, 1, std::int64_t{1} << 30U).has_value();
}

// ENOSPC reaches us as an OutputError whose message quotes strerror: a full disk is not the
// request's fault, and the caller answers it as one.
[[noreturn]] void rethrow_write_error(const OutputError& error) {
    const std::string message = error.what();
    if (message.find("No space left") != std::string::npos || message.find("Disk quota") != std::string::npos) {
        throw StorageError(StorageError::Kind::Full, message);
    }
    throw;
}

} // namespace

std::int64_t file_bytes_or_zero(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    return ec ? 0 : static_cast<std::int64_t>(size);
}

ResultFiles::ResultFiles(fs::path dir) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
}

fs::path ResultFiles::image(const std::string& job_id) const {
    return dir_ / (job_id + ".png");
}

fs::path ResultFiles::sidecar(const std::string& job_id) const {
    return dir_ / (job_id + ".json");
}

std::int64_t ResultFiles::write(const std::string& job_id, const Image& result_image, json sidecar_json,
                                const json& result) const {
    try {
        const std::vector<std::uint8_t> png = encode_png(result_image);
        // The image's hash in the sidecar ties the two files together: recovery accepts only
        // the very image this sidecar was written for.
        json recorded = result;
        recorded["sha256"] = io::sha256_hex(png.data(), png.size());
        sidecar_json["studio"]["result"] = recorded;
        write_file_atomic(image(job_id), png.data(), png.size());
        write_file_atomic(sidecar(job_id), sidecar_json.dump(2) + "\n");
    } catch (const OutputError& e) {
        remove(job_id); // half a result is none; on a full disk its space is wanted back
        rethrow_write_error(e);
    }
    return bytes(job_id);
}

std::int64_t ResultFiles::bytes(const std::string& job_id) const {
    return file_bytes_or_zero(image(job_id)) + file_bytes_or_zero(sidecar(job_id));
}

std::int64_t ResultFiles::remove(const std::string& job_id) const {
    const std::int64_t bytes = this->bytes(job_id);
    std::error_code ec;
    fs::remove(sidecar(job_id), ec); // first: without it the image is no longer a complete result
    fs::remove(image(job_id), ec);
    return bytes;
}

std::optional<json> ResultFiles::complete_result(const std::string& job_id) const {
    const json sidecar_json =
        parse_stored_json(read_small_file(sidecar(job_id), kSidecarLimits.max_bytes), kSidecarLimits);
    if (!sidecar_json.is_object() || !sidecar_json.contains("studio") || !sidecar_json["studio"].is_object()) {
        return std::nullopt;
    }
    const json& studio = sidecar_json["studio"];
    const auto job = studio.find("job");
    const auto result = studio.find("result");
    if (job == studio.end() || *job != job_id || result == studio.end() || !result->is_object() ||
        !positive_int(*result, "width") || !positive_int(*result, "height")) {
        return std::nullopt;
    }
    const auto sha256 = result->find("sha256");
    if (sha256 == result->end() || !sha256->is_string()) {
        return std::nullopt;
    }
    const std::int64_t width = (*result)["width"].get<std::int64_t>();
    const std::int64_t height = (*result)["height"].get<std::int64_t>();
    try {
        if (io::sha256_file_hex(image(job_id)) != sha256->get<std::string>()) {
            return std::nullopt; // another image, or cut short
        }
        ImageLoadLimits limits;
        limits.max_pixels = width * height;
        limits.min_side = 1;
        const Image decoded = load_image(image(job_id), limits);
        if (decoded.width != width || decoded.height != height) {
            return std::nullopt;
        }
    } catch (const Error&) {
        return std::nullopt; // missing, unreadable, or not the size the sidecar says
    }
    json shown = *result;
    shown.erase("sha256");
    return shown;
}

void ResultFiles::touch(const std::string& job_id) const {
    std::error_code ec;
    fs::last_write_time(image(job_id), fs::file_time_type::clock::now(), ec);
}

std::vector<ResultFileInfo> ResultFiles::scan() const {
    std::vector<ResultFileInfo> found;
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(dir_, ec)) {
        const fs::path& path = item.path();
        if (path.extension() != ".png" || path.filename().string().find(".tmp-") != std::string::npos) {
            continue;
        }
        ResultFileInfo info;
        info.job_id = path.stem().string();
        std::error_code time_error;
        info.last_used = fs::last_write_time(path, time_error);
        if (time_error) {
            continue; // removed meanwhile
        }
        info.bytes = file_bytes_or_zero(path) + file_bytes_or_zero(sidecar(info.job_id));
        found.push_back(std::move(info));
    }
    return found;
}

} // namespace impasto::studio
