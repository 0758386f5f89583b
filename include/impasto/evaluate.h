#pragma once
// A fixed yardstick for comparing outputs of any tool: the Gatys 2016 losses under fp32 VGG19
// with max pooling, content at relu4_2 (eq. 1), style over relu1_1..relu5_1 with w_l = 1/5
// (eq. 2-3), all images at one size. Lower is closer.
#include "impasto/image.h"
#include "impasto/model.h"

namespace impasto {

struct EvaluationOptions {
    int size = 512; // long side the output is resized to; content matches it, style too
};

struct Evaluation {
    double content_loss = 0; // eq. 1
    double style_loss = 0;   // eq. 3 (sum over layers of w_l E_l)
    int width = 0;
    int height = 0;
};

Evaluation evaluate(const FeatureModel& model, const Image& output, const Image& content, const Image& style,
                    const EvaluationOptions& options = {});

} // namespace impasto
