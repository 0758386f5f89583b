#include "study/toml_nesting.h"

#include <cstddef>
#include <vector>

namespace impasto::study {
namespace {

// Where the scanner is: outside strings and comments, or inside one of TOML's four string forms.
enum class Mode { Code, Comment, Basic, Literal, MultiBasic, MultiLiteral };

bool starts_with(std::string_view text, std::size_t at, std::string_view prefix) {
    return text.substr(at, prefix.size()) == prefix;
}

class Scanner {
  public:
    Scanner(std::string_view text, int limit) : text_(text), limit_(limit) {}

    TomlNesting run() {
        for (i_ = 0; i_ < text_.size() && result_.depth <= limit_; ++i_) {
            const char c = text_[i_];
            if (c == '\n') {
                ++line_;
                line_start_ = true;
                if (mode_ == Mode::Comment || mode_ == Mode::Basic || mode_ == Mode::Literal) {
                    mode_ = Mode::Code; // single-line strings cannot span lines; toml++ reports them
                }
                if (mode_ == Mode::Code) {
                    dots_ = 0;
                    key_dots_ = 0;
                }
                continue;
            }
            switch (mode_) {
            case Mode::Code:
                code(c);
                break;
            case Mode::Comment:
                break;
            case Mode::Basic:
                if (c == '\\' && i_ + 1 < text_.size() && text_[i_ + 1] != '\n') {
                    ++i_; // the escaped character never ends the string
                } else if (c == '"') {
                    mode_ = Mode::Code;
                }
                break;
            case Mode::Literal:
                if (c == '\'') {
                    mode_ = Mode::Code;
                }
                break;
            case Mode::MultiBasic:
                if (c == '\\' && i_ + 1 < text_.size() && text_[i_ + 1] != '\n') {
                    ++i_;
                } else if (starts_with(text_, i_, "\"\"\"")) {
                    i_ += 2;
                    mode_ = Mode::Code;
                }
                break;
            case Mode::MultiLiteral:
                if (starts_with(text_, i_, "'''")) {
                    i_ += 2;
                    mode_ = Mode::Code;
                }
                break;
            }
        }
        return result_;
    }

  private:
    void code(char c) {
        const bool first_on_line = line_start_ && c != ' ' && c != '\t' && c != '\r';
        if (first_on_line) {
            line_start_ = false;
            if (c == '[' && brackets_ == 0) {
                header();
                return;
            }
        }
        switch (c) {
        case '#':
            mode_ = Mode::Comment;
            break;
        case '"':
            if (starts_with(text_, i_, "\"\"\"")) {
                i_ += 2;
                mode_ = Mode::MultiBasic;
            } else {
                mode_ = Mode::Basic;
            }
            break;
        case '\'':
            if (starts_with(text_, i_, "'''")) {
                i_ += 2;
                mode_ = Mode::MultiLiteral;
            } else {
                mode_ = Mode::Literal;
            }
            break;
        case '[':
        case '{':
            // The value's own key (`a.b = [`) nests everything inside it that much deeper.
            ++brackets_;
            carried_.push_back(key_dots_);
            carried_sum_ += key_dots_;
            key_dots_ = 0;
            dots_ = 0;
            note();
            break;
        case ']':
        case '}':
            if (brackets_ > 0) {
                --brackets_;
                carried_sum_ -= carried_.back();
                carried_.pop_back();
            }
            key_dots_ = 0;
            dots_ = 0;
            break;
        case '=':
            key_dots_ = dots_;
            dots_ = 0;
            break;
        case ',':
            key_dots_ = 0;
            dots_ = 0;
            break;
        case '.':
            ++dots_;
            note();
            break;
        default:
            break;
        }
    }

    // `[a.b.c]` or `[[a.b]]`: every later key sits that deep until the next header. Quoted
    // segments may hold dots and brackets; they do not count. Consumes the line up to its newline.
    void header() {
        std::size_t end = text_.find('\n', i_);
        end = end == std::string_view::npos ? text_.size() : end;
        table_depth_ = 1;
        std::size_t j = i_ + 1;
        if (j < end && text_[j] == '[') {
            ++table_depth_; // an array of tables, then the table in it
            ++j;
        }
        dots_ = 0;
        note();
        for (; j < end && text_[j] != ']' && result_.depth <= limit_; ++j) {
            const char c = text_[j];
            if (c == '"' || c == '\'') {
                for (++j; j < end && text_[j] != c; ++j) {
                    if (c == '"' && text_[j] == '\\') {
                        ++j;
                    }
                }
            } else if (c == '.') {
                ++table_depth_;
                note();
            }
        }
        i_ = end - 1; // the rest (`]`, `]]`, a comment) is toml++'s to check; the loop reads the newline next
    }

    void note() {
        const int depth = table_depth_ + brackets_ + carried_sum_ + dots_;
        if (depth > result_.depth) {
            result_ = {depth, line_};
        }
    }

    std::string_view text_;
    int limit_;
    std::size_t i_ = 0;
    Mode mode_ = Mode::Code;
    int line_ = 1;
    bool line_start_ = true;
    int brackets_ = 0;
    int dots_ = 0;             // since the last `=`, `,`, bracket or newline: a key's (or a float's) dots
    int key_dots_ = 0;         // the dots of the key whose value is being read
    std::vector<int> carried_; // per open bracket, the key dots it was opened under
    int carried_sum_ = 0;
    int table_depth_ = 0;
    TomlNesting result_;
};

} // namespace

TomlNesting toml_nesting_depth(std::string_view text, int limit) {
    return Scanner(text, limit).run();
}

} // namespace impasto::study
