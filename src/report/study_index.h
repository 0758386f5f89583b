#pragma once
// Finding runs of a study by their place in the grid, and the names the report shows for them.
#include "impasto/study.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace impasto::report {

class StudyIndex {
  public:
    explicit StudyIndex(const StudyResults& results);

    // The run at content `content`, style `style` and these value indices (one per grid axis);
    // nullptr when it has not run.
    const StudyRunResult* find(int content, int style, const std::vector<int>& axis_values) const;

    int content_count() const { return content_count_; }
    int style_count() const { return style_count_; }
    // A value index for every axis, all at the first value.
    std::vector<int> first_values() const { return std::vector<int>(axes().size(), 0); }
    const std::vector<GridAxis>& axes() const { return results_.spec.grid; }
    // The index of the grid axis named `key`, or -1.
    int axis_index(const std::string& key) const;
    // The value index a run takes on axis `axis` (0 when the run does not say).
    static int value_of(const StudyRunResult& run, std::size_t axis);

    // Input images, resolved against the spec's folder, and their short names ("tubingen").
    std::filesystem::path content_path(int index) const;
    std::filesystem::path style_path(int index) const;
    std::string content_name(int index) const;
    std::string style_name(int index) const;
    // The planned number of runs: contents × styles × every axis's value count.
    long long planned_runs() const;
    // "style_weight=1e+03, model=vgg19.caffe": every axis but `except` and `except2` at these values.
    std::string describe(const std::vector<int>& axis_values, int except = -1, int except2 = -1) const;

    // A path from the spec, resolved against the spec file's folder when relative.
    std::filesystem::path resolve(const std::filesystem::path& file) const;

    const StudyResults& results() const { return results_; }

  private:
    const StudyResults& results_;
    std::map<std::vector<int>, const StudyRunResult*> by_place_;
    int content_count_ = 0;
    int style_count_ = 0;
};

// Whether the evaluator scored the run (an interrupted study may have runs it did not score).
inline bool has_evaluation(const StudyRunResult& run) {
    return run.evaluation.width > 0 || run.evaluation.content_loss != 0 || run.evaluation.style_loss != 0;
}

// Loss history on one x axis: iterations counted across the coarse-to-fine scales.
struct CumulativeHistory {
    std::vector<double> x;            // per history entry
    std::vector<double> scale_starts; // x where scales 2, 3, ... begin
};
CumulativeHistory cumulative_history(const std::vector<LossRecord>& history);

} // namespace impasto::report
