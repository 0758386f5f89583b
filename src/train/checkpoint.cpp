#include "train/checkpoint.h"

#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "io/bounded_json.h"

#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <nlohmann/json.hpp>
#include <sstream>

namespace impasto::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "impasto.train-checkpoint.1";
// The fingerprint holds the options, data folders and style paths included: generous in size, but
// our own nests three levels, so depth is capped as for any JSON from a file.
constexpr JsonLimits kFingerprintLimits{16U << 20U, 32};

std::string short_value(const nlohmann::json& value) {
    if (value.is_null()) {
        return "(absent)";
    }
    std::string text = value.dump();
    return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

} // namespace

fs::path checkpoint_path(const fs::path& output, const fs::path& checkpoint) {
    if (!checkpoint.empty()) {
        return checkpoint;
    }
    fs::path file = output;
    file += ".ckpt";
    return file;
}

void save_checkpoint(const fs::path& file, const CheckpointInfo& info, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer) {
    std::ostringstream bytes;
    try {
        torch::serialize::OutputArchive archive;
        archive.write("format", c10::IValue(std::string(kFormat)));
        archive.write("step", c10::IValue(info.step));
        archive.write("wall_seconds", c10::IValue(info.wall_seconds));
        archive.write("fingerprint", c10::IValue(info.fingerprint));
        archive.write("losses", c10::IValue(nlohmann::json(info.losses).dump()));
        torch::serialize::OutputArchive parameters;
        for (const auto& item : model.named_parameters()) {
            parameters.write(item.key(), item.value().detach());
        }
        archive.write("model", parameters);
        torch::serialize::OutputArchive state;
        optimizer.save(state);
        archive.write("optimizer", state);
        archive.save_to(bytes);
    } catch (const c10::Error& e) {
        throw OutputError(fmt::format("writing checkpoint '{}': {}", file.string(), e.what_without_backtrace()));
    }
    // Through write_file_atomic: an interrupted save leaves the previous checkpoint intact.
    write_file_atomic(file, bytes.str());
}

CheckpointInfo load_checkpoint(const fs::path& file, const std::string& fingerprint, torch::nn::Module& model,
                               torch::optim::Optimizer& optimizer) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        throw InputError(fmt::format("no checkpoint to resume from at '{}'", file.string()));
    }
    CheckpointInfo info;
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(file.string());
        c10::IValue value;
        if (!archive.try_read("format", value) || !value.isString() || value.toStringRef() != kFormat) {
            throw InputError(fmt::format("'{}' is not an impasto training checkpoint", file.string()));
        }
        archive.read("fingerprint", value);
        info.fingerprint = value.toStringRef();
        const std::string differences = fingerprint_differences(info.fingerprint, fingerprint);
        if (!differences.empty()) {
            throw InputError(fmt::format("checkpoint '{}' was made with other options ({}); train with the same "
                                         "options, or start afresh without --resume",
                                         file.string(), differences));
        }
        archive.read("step", value);
        info.step = value.toInt();
        archive.read("wall_seconds", value);
        info.wall_seconds = value.toDouble();
        archive.read("losses", value);
        info.losses = parse_bounded_json(value.toStringRef(), JsonLimits{},
                                         fmt::format("checkpoint '{}' is damaged: losses", file.string()))
                          .get<std::map<std::string, double>>();
        torch::serialize::InputArchive parameters;
        archive.read("model", parameters);
        const torch::NoGradGuard no_grad;
        for (auto& item : model.named_parameters()) {
            torch::Tensor saved;
            parameters.read(item.key(), saved);
            if (saved.sizes() != item.value().sizes()) {
                throw InputError(fmt::format("checkpoint '{}': parameter {} has shape {}, the model {}", file.string(),
                                             item.key(), fmt::join(saved.sizes(), "x"),
                                             fmt::join(item.value().sizes(), "x")));
            }
            item.value().copy_(saved);
        }
        torch::serialize::InputArchive state;
        archive.read("optimizer", state);
        optimizer.load(state);
    } catch (const c10::Error& e) {
        throw InputError(fmt::format("checkpoint '{}' is damaged or belongs to another model: {}", file.string(),
                                     e.what_without_backtrace()));
    } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("checkpoint '{}' is damaged: {}", file.string(), e.what()));
    }
    return info;
}

std::string fingerprint_differences(const std::string& saved, const std::string& current) {
    nlohmann::json a;
    nlohmann::json b;
    try {
        a = parse_bounded_json(saved, kFingerprintLimits, "checkpoint fingerprint");
        b = parse_bounded_json(current, kFingerprintLimits, "options fingerprint");
    } catch (const InputError&) {
        return saved == current ? "" : "unreadable fingerprint";
    }
    if (!a.is_object() || !b.is_object()) {
        return a == b ? "" : "unreadable fingerprint";
    }
    std::string text;
    nlohmann::json keys = a;
    keys.update(b);
    for (const auto& item : keys.items()) {
        const nlohmann::json va = a.contains(item.key()) ? a[item.key()] : nlohmann::json();
        const nlohmann::json vb = b.contains(item.key()) ? b[item.key()] : nlohmann::json();
        if (va != vb) {
            text += fmt::format("{}{}: {} in the checkpoint, {} now", text.empty() ? "" : "; ", item.key(),
                                short_value(va), short_value(vb));
        }
    }
    return text;
}

} // namespace impasto::train
