// GET /api/info, GET /api/defaults, GET /api/examples/{file} (the method tabs' pictures, read at
// start), and the page itself (compiled in). No route here reads the disk.
#include "impasto/device.h"
#include "impasto/version.h"
#include "server/http_util.h"
#include "server/routes.h"
#include "server/studio_error.h"
#include "server/web_assets.h"

namespace impasto::studio {

using nlohmann::json;

void add_info_routes(httplib::Server& server, StudioContext& context) {
    server.Get("/api/info", guarded([&context](const httplib::Request&, httplib::Response& res) {
                   const QueueCounts counts = context.queue.counts();
                   const StudioOptions& options = context.options;
                   send_json(res, 200,
                             json{{"version", IMPASTO_VERSION},
                                  {"torch_version", torch_version()},
                                  {"device", options.device.str()},
                                  {"threads", options.threads},
                                  {"workers", options.workers},
                                  {"precision", to_string(options.precision)},
                                  {"weight_set", options.weight_set},
                                  {"queue",
                                   {{"queued", counts.queued},
                                    {"running", counts.running},
                                    {"done", counts.done},
                                    {"failed", counts.failed},
                                    {"cancelled", counts.cancelled}}},
                                  {"limits",
                                   {{"max_upload_bytes", options.max_upload_bytes},
                                    {"max_pixels", options.max_pixels},
                                    {"max_output_side", options.max_output_side},
                                    {"max_event_streams", options.max_event_streams}}},
                                  {"event_streams_open", context.hub.open_streams()},
                                  {"token_required", !options.token.empty()}});
               }));
    server.Get("/api/defaults", guarded([&context](const httplib::Request&, httplib::Response& res) {
                   send_json(res, 200, defaults_json(context.catalog));
               }));
    // The name is looked up in the table loaded at start; it is never made into a path.
    server.Get(std::string("/api/examples/") + kExampleFilePattern,
               guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   const ModelExample* example = context.catalog.examples.find(req.matches[1]);
                   if (example == nullptr) {
                       throw StudioError(404, "not_found", "no such example");
                   }
                   // /api/defaults names each with ?v= of its bytes, so that URL may be kept for good;
                   // without it (or with an old one) the browser asks again.
                   const bool versioned = req.get_param_value("v") == example->version;
                   res.set_header("Cache-Control", versioned ? "private, max-age=31536000, immutable" : "no-cache");
                   const std::string etag = "\"" + example->version + "\"";
                   res.set_header("ETag", etag);
                   if (req.get_header_value("If-None-Match") == etag) {
                       res.status = 304;
                       return;
                   }
                   res.set_content(example->jpeg, "image/jpeg");
               }));
}

void add_static_routes(httplib::Server& server) {
    server.Get(
        R"(/|/index\.html|/assets/[A-Za-z0-9_.-]{1,128})", [](const httplib::Request& req, httplib::Response& res) {
            const WebAsset* asset = find_web_asset(req.path == "/" ? "/index.html" : req.path);
            if (asset == nullptr) {
                send_error(res, 404, "not_found", "no such page");
                return;
            }
            res.set_header("Cache-Control", "no-cache");
            res.set_content(reinterpret_cast<const char*>(asset->data), asset->size, std::string(asset->content_type));
        });
}

} // namespace impasto::studio
