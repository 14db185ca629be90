// Reading a Hugging Face tokenizer.json into BpeTokenizer::Impl. Every rejection names the file and
// the JSON field, and says what is supported.
#include <nlohmann/json.hpp>

#include "bpe_impl.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/text/unicode.hpp"

namespace sdz::text {

using nlohmann::json;

const std::array<uint32_t, 256>& byte_level_chars() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? b : 256 + extra++;
    }
    return t;
  }();
  return table;
}

// Byte-level token text -> raw bytes; false when a char is outside the ByteLevel alphabet
// (which only has code points below U+0144, so 1- and 2-byte UTF-8).
bool byte_level_to_bytes(const std::string& token, std::string& bytes) {
  static const std::array<int16_t, 0x144> inverse = [] {
    std::array<int16_t, 0x144> m;
    m.fill(-1);
    const auto& t = byte_level_chars();
    for (int b = 0; b < 256; ++b) m[t[b]] = static_cast<int16_t>(b);
    return m;
  }();
  bytes.clear();
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  for (size_t i = 0, n = token.size(); i < n;) {
    uint32_t cp;
    if (p[i] < 0x80) {
      cp = p[i++];
    } else if ((p[i] & 0xE0) == 0xC0 && i + 1 < n) {
      cp = ((p[i] & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
      i += 2;
    } else {
      return false;
    }
    if (cp >= inverse.size() || inverse[cp] < 0) return false;
    bytes += static_cast<char>(inverse[cp]);
  }
  return true;
}


namespace {

// The GPT-2 pattern ByteLevel applies when use_regex is true.
const char* kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct Loader {
  BpeTokenizer::Impl& im;
  std::string file;

  [[noreturn]] void fail(const std::string& field, const std::string& what, const std::string& hint = "") {
    throw Error(what, file + ": " + field, hint);
  }
  bool get_bool(const json& j, const char* key, const std::string& field, bool def) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return def;
    if (!it->is_boolean()) fail(field + "." + key, "expected true or false, got " + it->dump());
    return it->get<bool>();
  }
  std::string get_str(const json& j, const char* key, const std::string& field) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) fail(field + "." + key, "missing or not a string");
    return it->get<std::string>();
  }

  // Ids index dense tables, so one stray id of 2^31 would allocate gigabytes before any other check;
  // the largest real vocabularies are a few hundred thousand tokens.
  static constexpr int64_t kMaxIds = int64_t(1) << 24;
  static constexpr const char* too_large = " is beyond 16777215: no real vocabulary is that large (a damaged file?)";
  void ensure_id(int32_t id) {
    if (static_cast<size_t>(id) >= im.id_known.size()) {
      im.id_known.resize(id + 1, 0);
      im.id_special.resize(id + 1, 0);
      im.id_added.resize(id + 1, 0);
      im.id_bytes.resize(id + 1);
      im.id_token.resize(id + 1);
    }
  }

  void model(const json& m) {
    const std::string f = "model";
    if (!m.is_object()) fail(f, "missing or not an object");
    auto type = m.find("type");
    if (type != m.end() && *type != "BPE")
      fail(f + ".type", "model type " + type->dump() + " is not supported", "only byte-level \"BPE\" is");
    if (auto d = m.find("dropout"); d != m.end() && !d->is_null() && !(d->is_number() && d->get<double>() == 0))
      fail(f + ".dropout", "BPE dropout is not supported", "set it to null");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (auto d = m.find(k); d != m.end() && !d->is_null() && !(d->is_string() && d->get<std::string>().empty()))
        fail(f + "." + k, "a non-empty value is not supported by byte-level BPE");
    if (get_bool(m, "byte_fallback", f, false))
      fail(f + ".byte_fallback", "byte_fallback is not supported", "byte-level BPE never needs it");
    im.ignore_merges = get_bool(m, "ignore_merges", f, false);

    auto vocab = m.find("vocab");
    if (vocab == m.end() || !vocab->is_object()) fail(f + ".vocab", "missing or not an object of token -> id");
    std::string bytes;
    im.bytes_to_id.reserve(vocab->size());
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it->is_number_integer() || it->get<int64_t>() < 0)
        fail(f + ".vocab[\"" + it.key() + "\"]", "the id must be a non-negative integer, got " + it->dump());
      if (it->get<int64_t>() >= kMaxIds) fail(f + ".vocab[\"" + it.key() + "\"]", "id " + it->dump() + too_large);
      int32_t id = it->get<int32_t>();
      ensure_id(id);
      if (im.id_known[id]) fail(f + ".vocab[\"" + it.key() + "\"]", "id " + std::to_string(id) + " is used twice");
      im.id_known[id] = 1;
      im.id_token[id] = it.key();
      if (byte_level_to_bytes(it.key(), bytes)) {
        im.bytes_to_id[bytes] = id;
        im.id_bytes[id] = bytes;
      } else {
        im.odd_to_id[it.key()] = id;
        im.id_bytes[id] = it.key();  // the decoder passes such tokens through as UTF-8
      }
    }
    const auto& chars = byte_level_chars();
    for (int b = 0; b < 256; ++b) {
      auto it = im.bytes_to_id.find(std::string(1, static_cast<char>(b)));
      if (it == im.bytes_to_id.end()) {
        std::string c;
        append_utf8(c, chars[b]);
        fail(f + ".vocab", "no token for byte " + std::to_string(b) + " (\"" + c + "\")",
             "a byte-level vocabulary has all 256 single-byte tokens");
      }
      im.byte_id[b] = it->second;
    }

    auto merges = m.find("merges");
    if (merges == m.end() || !merges->is_array()) fail(f + ".merges", "missing or not an array");
    im.merges.reserve(merges->size() * 2);
    std::string ba, bb;
    for (size_t i = 0; i < merges->size(); ++i) {
      const json& e = (*merges)[i];
      auto fi = [&] { return f + ".merges[" + std::to_string(i) + "]"; };
      const std::string *a, *b;
      std::string sa, sb;
      if (e.is_string()) {  // "a b"
        const std::string& s = e.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          fail(fi(), "expected \"left right\" (one space), got " + e.dump());
        sa = s.substr(0, sp);
        sb = s.substr(sp + 1);
        a = &sa;
        b = &sb;
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {  // ["a","b"]
        a = &e[0].get_ref<const std::string&>();
        b = &e[1].get_ref<const std::string&>();
      } else {
        fail(fi(), "expected \"left right\" or [\"left\", \"right\"], got " + e.dump());
      }
      const bool byte_a = byte_level_to_bytes(*a, ba), byte_b = byte_level_to_bytes(*b, bb);
      auto ia = byte_a ? im.bytes_to_id.find(ba) : im.bytes_to_id.end();
      auto ib = byte_b ? im.bytes_to_id.find(bb) : im.bytes_to_id.end();
      if (ia == im.bytes_to_id.end() && !im.odd_to_id.count(*a)) fail(fi(), "\"" + *a + "\" is not in model.vocab");
      if (ib == im.bytes_to_id.end() && !im.odd_to_id.count(*b)) fail(fi(), "\"" + *b + "\" is not in model.vocab");
      if (!byte_a || !byte_b) continue;  // a token BPE can never build from bytes: the merge never applies
      auto ic = im.bytes_to_id.find(ba + bb);
      if (ic == im.bytes_to_id.end()) fail(fi(), "the merged token \"" + *a + *b + "\" is not in model.vocab");
      im.merges[(uint64_t(uint32_t(ia->second)) << 32) | uint32_t(ib->second)] = {static_cast<int32_t>(i), ic->second};
    }
  }

  void added_tokens(const json& arr) {
    if (arr.is_null()) return;
    if (!arr.is_array()) fail("added_tokens", "not an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      const json& e = arr[i];
      const std::string fi = "added_tokens[" + std::to_string(i) + "]";
      if (!e.is_object()) fail(fi, "not an object");
      AddedToken t;
      t.content = get_str(e, "content", fi);
      if (t.content.empty()) fail(fi + ".content", "empty");
      auto id = e.find("id");
      if (id == e.end() || !id->is_number_integer() || id->get<int64_t>() < 0)
        fail(fi + ".id", "missing or not a non-negative integer");
      if (id->get<int64_t>() >= kMaxIds) fail(fi + ".id", "id " + id->dump() + too_large);
      t.id = id->get<int32_t>();
      t.special = get_bool(e, "special", fi, false);
      t.lstrip = get_bool(e, "lstrip", fi, false);
      t.rstrip = get_bool(e, "rstrip", fi, false);
      t.normalized = get_bool(e, "normalized", fi, !t.special);
      if (get_bool(e, "single_word", fi, false)) fail(fi + ".single_word", "single_word tokens are not supported");
      ensure_id(t.id);
      im.id_known[t.id] = 1;
      im.id_special[t.id] = t.special;
      im.id_added[t.id] = 1;
      im.id_token[t.id] = t.content;
      im.id_bytes[t.id] = t.content;
      im.added_to_id[t.content] = t.id;
      im.added.push_back(t);
    }
    for (size_t k = 0; k < im.added.size(); ++k) {
      const AddedToken& t = im.added[k];
      auto& index = t.normalized && im.nfc ? im.norm_by_byte : im.raw_by_byte;
      (t.normalized && im.nfc ? im.has_norm : im.has_raw) = true;
      index[static_cast<unsigned char>(t.content[0])].push_back(static_cast<int>(k));
    }
    for (auto* index : {&im.raw_by_byte, &im.norm_by_byte})
      for (auto& v : *index)
        std::stable_sort(v.begin(), v.end(), [&](int x, int y) {
          return im.added[x].content.size() > im.added[y].content.size();
        });
  }

  void normalizer(const json& n, const std::string& field) {
    if (n.is_null()) return;
    std::string type = n.is_object() ? get_str(n, "type", field) : "";
    if (type == "NFC") {
      im.nfc = true;
    } else if (type == "Sequence") {
      auto list = n.find("normalizers");
      if (list == n.end() || !list->is_array()) fail(field + ".normalizers", "missing or not an array");
      for (size_t i = 0; i < list->size(); ++i) normalizer((*list)[i], field + ".normalizers[" + std::to_string(i) + "]");
    } else {
      fail(field + ".type", "normalizer \"" + type + "\" is not supported", "supported: null, NFC, Sequence of those");
    }
  }

  void pre_tokenizer(const json& p, const std::string& field, bool first) {
    if (p.is_null()) return;
    if (!p.is_object()) fail(field, "not an object");
    std::string type = get_str(p, "type", field);
    if (type == "Sequence") {
      auto list = p.find("pretokenizers");
      if (list == p.end() || !list->is_array()) fail(field + ".pretokenizers", "missing or not an array");
      for (size_t i = 0; i < list->size(); ++i)
        pre_tokenizer((*list)[i], field + ".pretokenizers[" + std::to_string(i) + "]", first && i == 0);
    } else if (type == "Split") {
      PreTokStep st;
      auto pat = p.find("pattern");
      std::string pattern;
      if (pat != p.end() && pat->is_object() && pat->contains("Regex") && (*pat)["Regex"].is_string()) {
        pattern = (*pat)["Regex"].get<std::string>();
      } else if (pat != p.end() && pat->is_object() && pat->contains("String") && (*pat)["String"].is_string()) {
        pattern = "\\Q" + (*pat)["String"].get<std::string>() + "\\E";
      } else {
        fail(field + ".pattern", "expected {\"Regex\": \"...\"} or {\"String\": \"...\"}");
      }
      st.regex = std::make_unique<Regex>(pattern, file + ": " + field + ".pattern");
      std::string behavior = get_str(p, "behavior", field);
      if (behavior == "Isolated") st.behavior = PreTokStep::Isolated;
      else if (behavior == "Removed") st.behavior = PreTokStep::Removed;
      else if (behavior == "MergedWithPrevious") st.behavior = PreTokStep::MergedWithPrevious;
      else if (behavior == "MergedWithNext") st.behavior = PreTokStep::MergedWithNext;
      else fail(field + ".behavior", "behavior \"" + behavior + "\" is not supported",
                "supported: Isolated, Removed, MergedWithPrevious, MergedWithNext");
      st.invert = get_bool(p, "invert", field, false);
      im.pretok_desc += (im.pretok_desc.empty() ? "" : " + ") + std::string("Split(") + behavior + ")";
      im.steps.push_back(std::move(st));
    } else if (type == "ByteLevel") {
      if (get_bool(p, "add_prefix_space", field, true)) {
        if (!first) fail(field + ".add_prefix_space", "add_prefix_space after another pre-tokenizer is not supported");
        im.add_prefix_space = true;
      }
      if (get_bool(p, "use_regex", field, true)) {
        PreTokStep st;
        st.regex = std::make_unique<Regex>(kGpt2Pattern, file + ": " + field + " (GPT-2 pattern)");
        im.steps.push_back(std::move(st));
      }
      im.pretok_desc += (im.pretok_desc.empty() ? "" : " + ") + std::string("ByteLevel");
    } else {
      fail(field + ".type", "pre-tokenizer \"" + type + "\" is not supported",
           "supported: Split, ByteLevel, Sequence of those");
    }
  }

  void decoder(const json& d, const std::string& field) {
    if (d.is_null()) return;
    std::string type = d.is_object() ? get_str(d, "type", field) : "";
    if (type == "ByteLevel") return;
    if (type == "Sequence" && d.contains("decoders") && d["decoders"].is_array()) {
      for (size_t i = 0; i < d["decoders"].size(); ++i)
        decoder(d["decoders"][i], field + ".decoders[" + std::to_string(i) + "]");
      return;
    }
    fail(field + ".type", "decoder \"" + type + "\" is not supported", "byte-level BPE needs the ByteLevel decoder");
  }
};

}  // namespace

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_json(const std::string& json_text, const std::string& where) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw Error(std::string("not valid JSON: ") + e.what(), where, "is this a Hugging Face tokenizer.json?");
  }
  return from_parsed(j, where);
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_parsed(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error("not a JSON object", where, "is this a Hugging Face tokenizer.json?");
  auto impl = std::make_unique<Impl>();
  impl->where = where;
  impl->cache.reserve(Impl::kCacheMax);
  Loader L{*impl, where};
  L.model(j.contains("model") ? j["model"] : json());
  L.normalizer(j.contains("normalizer") ? j["normalizer"] : json(), "normalizer");
  L.added_tokens(j.contains("added_tokens") ? j["added_tokens"] : json());
  L.pre_tokenizer(j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json(), "pre_tokenizer", true);
  L.decoder(j.contains("decoder") ? j["decoder"] : json(), "decoder");
  impl->normalizer_desc = impl->nfc ? "NFC" : "none";
  if (impl->pretok_desc.empty()) impl->pretok_desc = "none";
  return std::unique_ptr<BpeTokenizer>(new BpeTokenizer(std::move(impl)));
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_file(const std::string& path) {
  return from_json(read_file(path), path);
}

}  // namespace sdz::text
