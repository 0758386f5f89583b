// Looking runs up by grid position; names and paths of the inputs (see study_index.h).
#include "report/study_index.h"

#include <algorithm>
#include <fmt/format.h>

namespace impasto::report {

StudyIndex::StudyIndex(const StudyResults& results)
    : results_(results), content_count_(static_cast<int>(results.spec.contents.size())),
      style_count_(static_cast<int>(results.spec.styles.size())) {
    for (const StudyRunResult& result : results.runs) {
        std::vector<int> place{result.run.content_index, result.run.style_index};
        for (std::size_t axis = 0; axis < axes().size(); ++axis) {
            place.push_back(value_of(result, axis));
        }
        by_place_.emplace(std::move(place), &result); // the first run at a place wins
        content_count_ = std::max(content_count_, result.run.content_index + 1);
        style_count_ = std::max(style_count_, result.run.style_index + 1);
    }
}

const StudyRunResult* StudyIndex::find(int content, int style, const std::vector<int>& axis_values) const {
    std::vector<int> place{content, style};
    place.insert(place.end(), axis_values.begin(), axis_values.end());
    const auto found = by_place_.find(place);
    return found == by_place_.end() ? nullptr : found->second;
}

int StudyIndex::axis_index(const std::string& key) const {
    for (std::size_t i = 0; i < axes().size(); ++i) {
        if (axes()[i].key == key) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

int StudyIndex::value_of(const StudyRunResult& run, std::size_t axis) {
    return axis < run.run.axis_values.size() ? run.run.axis_values[axis] : 0;
}

std::filesystem::path StudyIndex::resolve(const std::filesystem::path& file) const {
    if (file.empty() || file.is_absolute() || results_.spec.file.empty()) {
        return file;
    }
    std::error_code ec;
    const std::filesystem::path beside = results_.spec.file.parent_path() / file;
    if (std::filesystem::exists(beside, ec) || !std::filesystem::exists(file, ec)) {
        return beside;
    }
    return file;
}

std::filesystem::path StudyIndex::content_path(int index) const {
    const auto& contents = results_.spec.contents;
    return index >= 0 && index < static_cast<int>(contents.size()) ? resolve(contents[index]) : std::filesystem::path{};
}

std::filesystem::path StudyIndex::style_path(int index) const {
    const auto& styles = results_.spec.styles;
    return index >= 0 && index < static_cast<int>(styles.size()) ? resolve(styles[index]) : std::filesystem::path{};
}

std::string StudyIndex::content_name(int index) const {
    const auto& contents = results_.spec.contents;
    if (index >= 0 && index < static_cast<int>(contents.size())) {
        return contents[index].stem().string();
    }
    return fmt::format("content {}", index + 1);
}

std::string StudyIndex::style_name(int index) const {
    const auto& styles = results_.spec.styles;
    if (index >= 0 && index < static_cast<int>(styles.size())) {
        return styles[index].stem().string();
    }
    return fmt::format("style {}", index + 1);
}

long long StudyIndex::planned_runs() const {
    long long count = static_cast<long long>(content_count_) * style_count_;
    for (const GridAxis& axis : axes()) {
        count *= static_cast<long long>(std::max<std::size_t>(axis.values.size(), 1));
    }
    return count;
}

std::string StudyIndex::describe(const std::vector<int>& axis_values, int except, int except2) const {
    std::string text;
    for (std::size_t i = 0; i < axes().size() && i < axis_values.size(); ++i) {
        const GridAxis& axis = axes()[i];
        const int value = axis_values[i];
        if (static_cast<int>(i) == except || static_cast<int>(i) == except2 || value < 0 ||
            value >= static_cast<int>(axis.values.size())) {
            continue;
        }
        text += (text.empty() ? "" : ", ") + axis.key + "=" + axis.values[value].label();
    }
    return text;
}

CumulativeHistory cumulative_history(const std::vector<LossRecord>& history) {
    CumulativeHistory out;
    out.x.reserve(history.size());
    double offset = 0;
    double last = 0;
    int scale = history.empty() ? 0 : history.front().scale_index;
    for (const LossRecord& record : history) {
        if (record.scale_index != scale) {
            offset = last;
            scale = record.scale_index;
            out.scale_starts.push_back(offset);
        }
        last = offset + record.iteration;
        out.x.push_back(last);
    }
    return out;
}

} // namespace impasto::report
