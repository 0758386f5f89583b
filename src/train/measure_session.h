#pragma once
// What the measurements of `models measure` share (measure_model.cpp runs them; measure_decoder.cpp
// and measure_style_model.cpp make them): the session, and images as `impasto stylize` writes them.
#include "impasto/evaluate.h"
#include "impasto/image.h"
#include "impasto/model_measure.h"
#include "impasto/style_model_file.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

namespace impasto::measure {

// What one measure_models call shares between its models.
struct Session {
    Session(const FeatureModel& model, const MeasureOptions& measure_options, const MeasureCallback& callback)
        : vgg(model), options(measure_options), on_event(callback) {}

    const FeatureModel& vgg;
    const MeasureOptions& options;
    const MeasureCallback& on_event;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    MeasureEvent current;                           // the model in progress: its path, kind, index and row counts
    std::map<std::string, Evaluation> optimisation; // by photo, style image, size and precision
    bool cancelled = false;

    double elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
    // Sends `event` (the current model's fields filled in); false once the caller asked to stop.
    bool emit(MeasureEvent event) {
        event.model = current.model;
        event.kind = current.kind;
        event.model_index = current.model_index;
        event.model_count = current.model_count;
        event.rows = current.rows;
        event.elapsed_seconds = elapsed();
        if (on_event && !on_event(event)) {
            cancelled = true;
        }
        return !cancelled;
    }
};

// The image as an 8-bit file holds it: what `impasto stylize` writes and `impasto evaluate` reads
// back, in OpenCV's arithmetic (convertTo scales in float and rounds to nearest even, both ways), so
// that the figures are those of the two commands to the last bit.
Image as_8_bit(Image image);
// load_image with the options' decode limit; InputError naming `what`.
Image load(const std::filesystem::path& file, const MeasureOptions& options, const char* what);

// One model of the session: rows, summary, evaluation and reference filled in (the caller adds the
// rest). Return early, partly filled, once session.cancelled is set.
ModelQuality measure_decoder(Session& session, const StyleModelFile& file);
ModelQuality measure_style_model(Session& session, const StyleModelFile& file);

} // namespace impasto::measure
