// defines: the Unicode tables behind nfc() (generated into nfc_data.cpp by tools/gen-nfc-table.mjs).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sdz::text::nfc_data {
extern const char* const kUnicodeVersion;
extern const uint32_t kCcc[][2];  // code point, combining-class rank (order-preserving, 1..255)
extern const size_t kCccCount;
extern const uint32_t kDecomp[];  // code point, n, n code points; repeated
extern const size_t kDecompSize;
extern const uint32_t kComp[][3];  // first, second, primary composite
extern const size_t kCompCount;
extern const uint32_t kUnstable[][2];  // inclusive ranges that fail the NFC quick check
extern const size_t kUnstableCount;
}  // namespace sdz::text::nfc_data
