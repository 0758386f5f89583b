// POST /api/uploads, GET /api/images, GET /api/images/{id}.
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
                    const ImageEntry entry = context.images.add_upload(file.filename, file.content);
                    send_json(res, 201, image_json(entry));
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
