#pragma once
// The sections of the HTML study report. Each returns one <section> element, or "" when the
// results hold nothing for it. All text that comes from the study is HTML-escaped.
#include "impasto/study.h"
#include "report/study_index.h"
#include "report/thumbnails.h"

#include <string>

namespace impasto::report {

struct ReportContext {
    explicit ReportContext(const StudyResults& r) : results(r), index(r) {}
    const StudyResults& results;
    StudyIndex index;
    Thumbnails thumbs;
};

// Section ids, in page order, with their headings (for the table of contents).
struct SectionInfo {
    const char* id;
    const char* heading;
};
inline constexpr SectionInfo kGridSection{"grid", "Content × style"};
inline constexpr SectionInfo kSweepSection{"sweeps", "Sweeps"};
inline constexpr SectionInfo kMatrixSection{"matrix", "Matrix"};
inline constexpr SectionInfo kLossSection{"losses", "Loss curves"};
inline constexpr SectionInfo kTableSection{"runs", "Run time and memory"};
inline constexpr SectionInfo kReconstructionSection{"reconstructions", "Layer reconstructions"};
inline constexpr SectionInfo kModelSection{"models", "Model comparison"};

// 1. Title, description, spec, machine, time, counts, and a banner when the study is incomplete.
std::string section_header(ReportContext& context);
// 2. Output images, rows = contents, columns = styles, inputs on the margins; other axes at their first value.
std::string section_grid(ReportContext& context);
// 3. One strip per grid axis with two or more values (the "model" axis is in section 8).
std::string section_sweeps(ReportContext& context);
// 4. spec.matrix's two keys as rows × columns, for the first content × style pair.
std::string section_matrix(ReportContext& context);
// 5. Loss curves: overlays per sweep axis, then one small chart per run.
std::string section_losses(ReportContext& context);
// 6. Every run: size, iterations, time, peak memory, evaluator losses, cached.
std::string section_run_table(ReportContext& context);
// 7. Content and style reconstructions and feature maps (Gatys 2016 Fig. 1).
std::string section_reconstructions(ReportContext& context);
// 8. Mean losses and time per weight set, and the strip over the "model" axis.
std::string section_models(ReportContext& context);

// Shared pieces.
// A <figure> with the run's image (or a "not run" / "image missing" placeholder) and a caption:
// `title` on the first line, the evaluator's style and content losses on the second.
std::string run_figure(ReportContext& context, const StudyRunResult* run, const std::string& title);
// Rows = content × style pairs, columns = the values of grid axis `axis`, other axes at their first value.
std::string axis_strip(ReportContext& context, int axis);
// "<section id=..><h2>..</h2>" opening.
std::string section_open(const SectionInfo& info, const std::string& heading_suffix = "");

} // namespace impasto::report
