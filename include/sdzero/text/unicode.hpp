// defines: the UTF-8 and Unicode pieces the tokenizers need: decoding with replacement of invalid
// sequences (the WHATWG / Rust from_utf8_lossy rule, which the reference tokenizers see), encoding,
// and NFC normalization from tables generated out of Node's ICU (no ICU library is installed here).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sdz::text {

// True when s is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(const std::string& s);
// s with every maximal invalid subsequence replaced by U+FFFD (as TextDecoder and from_utf8_lossy).
std::string sanitize_utf8(const std::string& s);
void append_utf8(std::string& out, uint32_t cp);
// Decodes valid UTF-8 (call sanitize_utf8 first on untrusted bytes).
std::vector<uint32_t> utf8_to_codepoints(const std::string& s);
std::string codepoints_to_utf8(const std::vector<uint32_t>& cps);

// Canonical composition (NFC) of valid UTF-8. Strings that pass the quick check come back unchanged
// without copying work beyond a scan.
std::string nfc(const std::string& s);
bool is_nfc_quick(const std::string& s);  // true: certainly NFC already
const char* nfc_unicode_version();

}  // namespace sdz::text
