#include "study/spec_tree.h"

#include "impasto/error.h"
#include "io/bounded_json.h"
#include "study/toml_nesting.h"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

namespace impasto::study {

const char* type_name(SpecNode::Type type) {
    switch (type) {
    case SpecNode::Type::Table:
        return "a table";
    case SpecNode::Type::Array:
        return "a list";
    case SpecNode::Type::Number:
        return "a number";
    case SpecNode::Type::String:
        return "a string";
    case SpecNode::Type::Bool:
        return "true or false";
    }
    return "?";
}

namespace {

[[noreturn]] void syntax_error(const std::string& name, int line, const std::string& what) {
    throw ConfigError(name + ":" + std::to_string(line) + ": " + what);
}

SpecNode from_toml(const toml::node& node, int line_of_key, const std::string& name) {
    SpecNode out;
    const int own_line = static_cast<int>(node.source().begin.line);
    out.line = own_line > 0 ? own_line : line_of_key;
    if (const toml::table* table = node.as_table()) {
        out.type = SpecNode::Type::Table;
        // toml++ keeps a table's keys sorted; the spec's order (grid axes!) is the file's.
        std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order;
        for (const auto& [key, value] : *table) {
            in_file_order.emplace_back(&key, &value);
        }
        std::stable_sort(in_file_order.begin(), in_file_order.end(), [](const auto& a, const auto& b) {
            const toml::source_position pa = a.first->source().begin;
            const toml::source_position pb = b.first->source().begin;
            return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
        });
        for (const auto& [key, value] : in_file_order) {
            const int key_line = static_cast<int>(key->source().begin.line);
            SpecNode child = from_toml(*value, key_line > 0 ? key_line : out.line, name);
            child.line = key_line > 0 ? key_line : child.line;
            out.members.emplace_back(std::string(key->str()), std::move(child));
        }
    } else if (const toml::array* array = node.as_array()) {
        out.type = SpecNode::Type::Array;
        for (const toml::node& item : *array) {
            out.items.push_back(from_toml(item, out.line, name));
        }
    } else if (const auto* integer = node.as_integer()) {
        out.type = SpecNode::Type::Number;
        out.number = static_cast<double>(integer->get());
        out.is_integer = true;
    } else if (const auto* floating = node.as_floating_point()) {
        out.type = SpecNode::Type::Number;
        out.number = floating->get();
    } else if (const auto* string = node.as_string()) {
        out.type = SpecNode::Type::String;
        out.text = string->get();
    } else if (const auto* boolean = node.as_boolean()) {
        out.type = SpecNode::Type::Bool;
        out.flag = boolean->get();
    } else {
        syntax_error(name, out.line, "dates and times are not used in study specs");
    }
    return out;
}

// Counts newlines as nlohmann's lexer consumes characters, so SAX events know their line.
class LineCountingIterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    LineCountingIterator(const char* position, int* line) : position_(position), line_(line) {}
    reference operator*() const { return *position_; }
    LineCountingIterator& operator++() {
        if (*position_ == '\n') {
            ++*line_;
        }
        ++position_;
        return *this;
    }
    LineCountingIterator operator++(int) {
        LineCountingIterator before = *this;
        ++*this;
        return before;
    }
    bool operator==(const LineCountingIterator& other) const { return position_ == other.position_; }
    bool operator!=(const LineCountingIterator& other) const { return position_ != other.position_; }

  private:
    const char* position_;
    int* line_;
};

// Builds the tree from SAX events; a key's line is exact (its closing quote ends the token).
class TreeBuilder : public nlohmann::json_sax<nlohmann::json> {
  public:
    TreeBuilder(const int* line, std::string name) : line_(line), name_(std::move(name)) {}

    bool null() override { syntax_error(name_, *line_, "null is not a value a spec can use"); }
    bool boolean(bool value) override {
        SpecNode node = leaf(SpecNode::Type::Bool);
        node.flag = value;
        return add(std::move(node));
    }
    bool number_integer(number_integer_t value) override { return integer(static_cast<double>(value)); }
    bool number_unsigned(number_unsigned_t value) override { return integer(static_cast<double>(value)); }
    bool number_float(number_float_t value, const string_t& /*text*/) override {
        SpecNode node = leaf(SpecNode::Type::Number);
        node.number = value;
        return add(std::move(node));
    }
    bool string(string_t& value) override {
        SpecNode node = leaf(SpecNode::Type::String);
        node.text = value;
        return add(std::move(node));
    }
    bool binary(binary_t& /*value*/) override { return false; }
    bool start_object(std::size_t /*size*/) override { return open(SpecNode::Type::Table); }
    bool key(string_t& value) override {
        pending_key_ = value;
        pending_key_line_ = *line_;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t /*size*/) override { return open(SpecNode::Type::Array); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                     const nlohmann::detail::exception& error) override {
        std::string what = error.what();
        const std::size_t colon = what.find(": ");
        syntax_error(name_, *line_, "not valid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    }

    SpecNode take_root() { return std::move(root_); }

  private:
    SpecNode leaf(SpecNode::Type type) const {
        SpecNode node;
        node.type = type;
        node.line = *line_;
        return node;
    }
    int keyed_line() const {
        return !stack_.empty() && stack_.back().type == SpecNode::Type::Table ? pending_key_line_ : *line_;
    }
    bool integer(double value) {
        SpecNode node = leaf(SpecNode::Type::Number);
        node.number = value;
        node.is_integer = true;
        return add(std::move(node));
    }
    bool add(SpecNode node) {
        if (stack_.empty()) {
            root_ = std::move(node);
            return true;
        }
        SpecNode& parent = stack_.back();
        if (parent.type == SpecNode::Type::Table) {
            node.line = pending_key_line_;
            for (const auto& member : parent.members) {
                if (member.first == pending_key_) {
                    syntax_error(name_, pending_key_line_, "key '" + pending_key_ + "' appears twice");
                }
            }
            parent.members.emplace_back(pending_key_, std::move(node));
        } else {
            parent.items.push_back(std::move(node));
        }
        return true;
    }
    // Members inside a container overwrite pending_key_, so the container's own key is kept on
    // a stack and restored when it closes.
    bool open(SpecNode::Type type) {
        SpecNode node = leaf(type);
        node.line = keyed_line();
        stack_.push_back(std::move(node));
        keys_.push_back(pending_key_);
        key_lines_.push_back(pending_key_line_);
        return true;
    }
    bool close() {
        SpecNode node = std::move(stack_.back());
        stack_.pop_back();
        pending_key_ = keys_.back();
        pending_key_line_ = key_lines_.back();
        keys_.pop_back();
        key_lines_.pop_back();
        return add(std::move(node));
    }

    const int* line_;
    std::string name_;
    std::vector<SpecNode> stack_;
    std::vector<std::string> keys_; // keys of the open containers, outermost first
    std::vector<int> key_lines_;
    std::string pending_key_;
    int pending_key_line_ = 0;
    SpecNode root_;
};

void check_spec_size(const std::string& text, const std::string& name) {
    if (text.size() > kMaxSpecBytes) {
        throw ConfigError(name + ": " + std::to_string(text.size()) + " bytes is over the limit of " +
                          std::to_string(kMaxSpecBytes) + " for a study spec");
    }
}

} // namespace

SpecNode parse_toml_tree(const std::string& text, const std::string& name) {
    check_spec_size(text, name);
    const TomlNesting nesting = toml_nesting_depth(text, kMaxSpecDepth);
    if (nesting.depth > kMaxSpecDepth) {
        syntax_error(name, nesting.line, "nests deeper than " + std::to_string(kMaxSpecDepth) + " levels");
    }
    try {
        const toml::table table = toml::parse(text, name);
        SpecNode root = from_toml(table, 1, name);
        root.line = 1;
        return root;
    } catch (const toml::parse_error& error) {
        syntax_error(name, static_cast<int>(error.source().begin.line),
                     "not valid TOML: " + std::string(error.description()));
    }
}

SpecNode parse_json_tree(const std::string& text, const std::string& name) {
    check_json_limits<ConfigError>(text, JsonLimits{kMaxSpecBytes, kMaxSpecDepth}, name);
    int line = 1;
    TreeBuilder builder(&line, name);
    const LineCountingIterator begin(text.data(), &line);
    const LineCountingIterator end(text.data() + text.size(), &line);
    nlohmann::json::sax_parse(begin, end, &builder);
    SpecNode root = builder.take_root();
    if (root.type != SpecNode::Type::Table) {
        syntax_error(name, 1, "a study spec must be a JSON object");
    }
    return root;
}

} // namespace impasto::study
