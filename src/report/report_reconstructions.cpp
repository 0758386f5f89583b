// Section 7: layer reconstructions (Gatys 2016 Fig. 1): what single layers keep of the content,
// what growing sets of layers keep of the style, and the most active feature maps of one layer.
#include "report/report_sections.h"
#include "report/report_text.h"

#include <fmt/format.h>

namespace impasto::report {

namespace {

struct KindRow {
    const char* kind;
    const char* heading;
};
constexpr KindRow kRows[] = {
    {"content", "Content reconstructions"},
    {"style", "Style reconstructions"},
    {"features", "Feature maps"},
};

std::string figure(ReportContext& context, const ReconstructionImage& image) {
    std::string html = "<figure class=\"cell\">" + context.thumbs.tag(image.image, image.label) + "<figcaption><b>" +
                       html_escape(image.label) + "</b>";
    if (image.kind != "features" || image.final_loss != 0) {
        html += "<br>loss " + format_metric(image.final_loss);
    }
    if (image.wall_seconds > 0) {
        html += " · " + format_seconds(image.wall_seconds) + " s";
    }
    return html + "</figcaption></figure>";
}

std::string input_cell(ReportContext& context, const std::filesystem::path& file, const std::string& what) {
    if (file.empty()) {
        return "<th></th>";
    }
    return "<th class=\"input\">" + context.thumbs.tag(file, what) + "<div class=\"name\">" +
           html_escape(what + ": " + file.stem().string()) + "</div></th>";
}

} // namespace

std::string section_reconstructions(ReportContext& context) {
    const auto& images = context.results.reconstructions;
    if (images.empty()) {
        return "";
    }
    const auto& spec = context.results.spec.reconstruction;
    std::filesystem::path content = context.index.content_path(0);
    std::filesystem::path style = context.index.style_path(0);
    if (spec && !spec->content.empty()) {
        content = context.index.resolve(spec->content);
    }
    if (spec && !spec->style.empty()) {
        style = context.index.resolve(spec->style);
    }
    std::string html = section_open(kReconstructionSection);
    html += "<p class=\"note\">Images optimised from white noise to match one layer's activations (content) or the "
            "Gram matrices of a set of layers (style).";
    if (spec) {
        html += html_escape(fmt::format(" {} px, {} iterations, seed {}.", spec->size, spec->iterations, spec->seed));
    }
    html += "</p><div class=\"scroll\"><table class=\"images\">";
    std::vector<bool> shown(images.size(), false);
    for (const KindRow& kind : kRows) {
        std::string cells;
        for (std::size_t i = 0; i < images.size(); ++i) {
            if (images[i].kind == kind.kind) {
                cells += "<td>" + figure(context, images[i]) + "</td>";
                shown[i] = true;
            }
        }
        if (cells.empty()) {
            continue;
        }
        html += fmt::format("<tr><th colspan=\"99\" class=\"row-heading\">{}</th></tr><tr>", kind.heading);
        const std::string kind_name = kind.kind;
        html += kind_name == "style" ? input_cell(context, style, "style") : input_cell(context, content, "content");
        html += cells + "</tr>";
    }
    std::string other;
    for (std::size_t i = 0; i < images.size(); ++i) {
        if (!shown[i]) {
            other += "<td>" + figure(context, images[i]) + "</td>";
        }
    }
    if (!other.empty()) {
        html += "<tr><th colspan=\"99\" class=\"row-heading\">Other</th></tr><tr><th></th>" + other + "</tr>";
    }
    return html + "</table></div></section>";
}

} // namespace impasto::report
