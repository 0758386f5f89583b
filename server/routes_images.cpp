// POST /api/uploads, DELETE /api/uploads/{id}, GET /api/images, GET /api/images/{id}, GET /api/storage.
#include "server/http_util.h"
#include "server/job_view.h"
#include "server/routes.h"
#include "server/studio_error.h"

namespace impasto::studio {

using nlohmann::json;

namespace {

json image_json(const ImageEntry& entry) {
    return {{"id", entry.id},
            {"name", entry.name},
            {"source", entry.source},
            {"format", entry.format},
            {"width", entry.width},
            {"height", entry.height},
            {"created_at", iso_time(entry.created_ms)},
            {"url", "/api/images/" + entry.id},
            {"thumb_url", "/api/images/" + entry.id + "?size=256"}};
}

json image_list(const std::vector<ImageEntry>& entries) {
    json out = json::array();
    for (const ImageEntry& entry : entries) {
        out.push_back(image_json(entry));
    }
    return out;
}

} // namespace

void add_image_routes(httplib::Server& server, StudioContext& context) {
    server.Post("/api/uploads", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                    if (!req.is_multipart_form_data() || !req.has_file("file")) {
                        throw StudioError(400, "bad_request", "send the image as multipart/form-data field 'file'");
                    }
                    const httplib::MultipartFormData file = req.get_file_value("file");
                    const ImageEntry entry = context.images.add_upload(file.filename, file.content, &context.storage);
                    send_json(res, 201, image_json(entry));
                }));
    server.Delete(R"(/api/uploads/([A-Za-z0-9_-]{1,64}))",
                  guarded([&context](const httplib::Request& req, httplib::Response& res) {
                      const std::string id = req.matches[1];
                      const DeleteResult deleted = context.storage.delete_upload(id);
                      if (deleted.outcome == DeleteOutcome::InUse) {
                          throw StudioError(409, "conflict",
                                            "upload " + id + " is used by job " + deleted.blocking_job +
                                                ", which has not run yet; cancel it first, or wait");
                      }
                      send_json(res, 200, json{{"id", id}, {"deleted", deleted.outcome == DeleteOutcome::Deleted}});
                  }));
    server.Get("/api/storage", guarded([&context](const httplib::Request&, httplib::Response& res) {
                   const StudioOptions& options = context.options;
                   const QueueCounts counts = context.queue.counts();
                   send_json(res, 200,
                             json{{"used_bytes", context.storage.used_bytes()},
                                  {"max_stored_bytes", options.max_stored_bytes},
                                  {"uploads", context.storage.upload_count()},
                                  {"max_uploads", options.max_uploads},
                                  {"unfinished_jobs", counts.queued + counts.running},
                                  {"max_queued_jobs", options.max_queued_jobs},
                                  {"max_queued_per_client", options.max_queued_per_client},
                                  {"keep_days", options.keep_days},
                                  {"keep_bytes", options.keep_bytes},
                                  {"max_attempts", options.max_attempts}});
               }));
    server.Get("/api/images", guarded([&context](const httplib::Request&, httplib::Response& res) {
                   send_json(res, 200,
                             json{{"gallery", image_list(context.images.gallery())},
                                  {"samples", image_list(context.images.samples())},
                                  {"uploads", image_list(context.images.uploads())}});
               }));
    server.Get(R"(/api/images/([A-Za-z0-9_-]{1,64}))",
               guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   const std::string id = req.matches[1];
                   res.set_header("Cache-Control", "private, max-age=3600");
                   if (req.has_param("size")) {
                       const int size = query_int(req, "size", 256, 16, 2048);
                       const std::vector<std::uint8_t> jpeg = context.images.thumbnail(id, size);
                       res.set_content(reinterpret_cast<const char*>(jpeg.data()), jpeg.size(), "image/jpeg");
                       return;
                   }
                   std::string type;
                   const std::string bytes = context.images.file_bytes(id, &type);
                   res.set_content(bytes, type);
               }));
}

} // namespace impasto::studio
