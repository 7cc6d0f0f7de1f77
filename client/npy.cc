#include "client/npy.h"

#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::client {
namespace {

constexpr absl::string_view kMagic = "\x93NUMPY";

// npy descr kind+size <-> our dtype names. The byte-order prefix is handled
// separately: '<' (little), '|' (not applicable) and '=' (native, and every
// platform q8c runs on is little-endian) are accepted.
struct DescrEntry {
  char kind;
  int size;
  absl::string_view dtype;
};
constexpr DescrEntry kDescrs[] = {
    {'b', 1, "bool"},   {'i', 1, "int8"},    {'u', 1, "uint8"},   {'i', 2, "int16"},
    {'u', 2, "uint16"}, {'i', 4, "int32"},   {'u', 4, "uint32"},  {'i', 8, "int64"},
    {'u', 8, "uint64"}, {'f', 2, "float16"}, {'f', 4, "float32"}, {'f', 8, "float64"},
};

// The header is a Python dict literal written by numpy, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 10), }
// This is a parser for exactly that subset: string keys; values that are
// strings, True/False, or tuples of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(absl::string_view text, absl::string_view source) : text_(text), source_(source) {}

  struct Header {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<int64_t>> shape;
  };

  absl::StatusOr<Header> Parse() {
    Header h;
    if (!Consume('{')) return Error("expected '{'");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      absl::StatusOr<std::string> key = ParseString();
      if (!key.ok()) return key.status();
      if (!Consume(':')) return Error("expected ':' after key");
      if (*key == "descr") {
        absl::StatusOr<std::string> v = ParseString();
        if (!v.ok()) return v.status();
        h.descr = *v;
      } else if (*key == "fortran_order") {
        SkipSpace();
        if (ConsumeWord("True")) {
          h.fortran_order = true;
        } else if (ConsumeWord("False")) {
          h.fortran_order = false;
        } else {
          return Error("fortran_order must be True or False");
        }
      } else if (*key == "shape") {
        absl::StatusOr<std::vector<int64_t>> v = ParseTuple();
        if (!v.ok()) return v.status();
        h.shape = *std::move(v);
      } else {
        return Error(
            absl::StrCat("unexpected key '", *key, "' (expected descr, fortran_order, shape)"));
      }
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) break;
      return Error("expected ',' or '}'");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing characters after '}'");
    return h;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": malformed .npy header at offset ",
                                                   pos_, ": ", what, " (header: ", text_, ")"));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(absl::string_view w) {
    if (text_.substr(pos_, w.size()) == w) {
      pos_ += w.size();
      return true;
    }
    return false;
  }
  absl::StatusOr<std::string> ParseString() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Error("expected a quoted string");
    }
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Error("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  absl::StatusOr<std::vector<int64_t>> ParseTuple() {
    if (!Consume('(')) return Error("shape must be a tuple");
    std::vector<int64_t> dims;
    while (true) {
      if (Consume(')')) break;
      SkipSpace();
      size_t start = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      }
      // numpy may write "3L" in files made by Python 2.
      absl::string_view digits = text_.substr(start, pos_ - start);
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
      int64_t d;
      if (digits.empty() || !absl::SimpleAtoi(digits, &d)) {
        return Error("shape entries must be non-negative integers");
      }
      dims.push_back(d);
      if (Consume(',')) continue;
      if (Consume(')')) break;
      return Error("expected ',' or ')' in shape");
    }
    return dims;
  }

  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
};

uint32_t ReadLe(absl::string_view bytes, size_t offset, int width) {
  uint32_t v = 0;
  for (int i = width - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(bytes[offset + i]);
  }
  return v;
}

absl::StatusOr<std::string> DescrToDType(absl::string_view descr, absl::string_view source) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": unsupported .npy dtype '", descr, "': ", why));
  };
  if (descr.size() < 3) return bad("not a simple dtype");
  char order = descr[0];
  if (order == '>') {
    return bad("big-endian; convert with a.astype(a.dtype.newbyteorder('<'))");
  }
  if (order != '<' && order != '|' && order != '=') {
    return bad("not a simple dtype");
  }
  int size;
  if (!absl::SimpleAtoi(descr.substr(2), &size)) return bad("not a simple dtype");
  for (const DescrEntry& e : kDescrs) {
    if (e.kind == descr[1] && e.size == size) return std::string(e.dtype);
  }
  return bad(absl::StrCat("supported: ", KnownDTypes()));
}

std::string DTypeToDescr(absl::string_view dtype) {
  for (const DescrEntry& e : kDescrs) {
    if (e.dtype == dtype) {
      return absl::StrCat(e.size == 1 ? "|" : "<", std::string(1, e.kind), e.size);
    }
  }
  return "";  // Unreachable after CheckHostTensor.
}

}  // namespace

absl::StatusOr<HostTensor> ParseNpy(absl::string_view bytes, absl::string_view source) {
  if (bytes.size() < 10 || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a .npy file (missing \\x93NUMPY magic)"));
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  // v1 has a 2-byte header length, v2 and v3 (utf-8 header) a 4-byte one.
  int len_width;
  if (major == 1) {
    len_width = 2;
  } else if (major == 2 || major == 3) {
    len_width = 4;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": unsupported .npy format version ", major, ".",
        static_cast<int>(static_cast<unsigned char>(bytes[7])), " (supported: 1.x, 2.x, 3.x)"));
  }
  const size_t header_start = 8 + len_width;
  if (bytes.size() < header_start) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": truncated .npy header"));
  }
  const size_t header_len = ReadLe(bytes, 8, len_width);
  if (bytes.size() - header_start < header_len) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": truncated .npy header (declares ", header_len, " bytes, file has ",
                     bytes.size() - header_start, " after the prefix)"));
  }
  absl::StatusOr<HeaderParser::Header> header =
      HeaderParser(bytes.substr(header_start, header_len), source).Parse();
  if (!header.ok()) return header.status();
  if (!header->descr || !header->fortran_order || !header->shape) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": .npy header lacks one of 'descr', 'fortran_order', 'shape'"));
  }
  if (*header->fortran_order) {
    // A Fortran-order array would need a transpose to reach row-major; make
    // the user do it explicitly rather than guess.
    return absl::InvalidArgumentError(absl::StrCat(source,
                                                   ": Fortran-order arrays are not supported; save "
                                                   "np.ascontiguousarray(a) instead"));
  }
  HostTensor t;
  absl::StatusOr<std::string> dtype = DescrToDType(*header->descr, source);
  if (!dtype.ok()) return dtype.status();
  t.dtype = *std::move(dtype);
  t.shape = *std::move(header->shape);
  t.data = std::string(bytes.substr(header_start + header_len));
  absl::Status st = CheckHostTensor(t, source);
  if (!st.ok()) return st;
  return t;
}

absl::StatusOr<HostTensor> ReadNpyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ParseNpy(bytes, path);
}

absl::StatusOr<std::string> SerializeNpy(const HostTensor& t) {
  absl::Status st = CheckHostTensor(t, "tensor");
  if (!st.ok()) return st;
  // Python tuple syntax: "()" for scalars, "(3,)" for rank 1.
  std::string shape =
      absl::StrCat("(", absl::StrJoin(t.shape, ", "), t.shape.size() == 1 ? ",)" : ")");
  std::string dict = absl::StrCat("{'descr': '", DTypeToDescr(t.dtype),
                                  "', 'fortran_order': False, 'shape': ", shape, ", }");
  // numpy pads with spaces and a final '\n' so the data starts 64-aligned.
  int major = 1;
  size_t prefix = 10;
  size_t total = prefix + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  if (total - prefix > 0xFFFF) {
    major = 2;
    prefix = 12;
    total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  }
  const size_t header_len = total - prefix;
  dict.append(header_len - dict.size() - 1, ' ');
  dict.push_back('\n');

  std::string out(kMagic);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  for (size_t i = 0; i < prefix - 8; ++i) {
    out.push_back(static_cast<char>((header_len >> (8 * i)) & 0xFF));
  }
  out += dict;
  out += t.data;
  return out;
}

absl::Status WriteNpyFile(const std::string& path, const HostTensor& t) {
  absl::StatusOr<std::string> bytes = SerializeNpy(t);
  if (!bytes.ok()) return bytes.status();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open for writing"));
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

}  // namespace q8::client
