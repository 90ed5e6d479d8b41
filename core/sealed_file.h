#pragma once
// Our binary file container (tiny_model.nasm, predictor files), little endian:
//   8 bytes  magic (names the kind of file and its layout version)
//   u64      header length H
//   H bytes  header JSON
//   data     payload bytes (the header says what they are)
//   u64      FNV-1a 64 checksum of everything before it (files of the first format versions: with
//            the legacy offset basis, core/fnv1a.h; open_sealed says which, the reader decides
//            whether its format version allows it)
// seal() builds one; open_sealed() checks magic, checksum and lengths before anything is parsed,
// with one-line errors naming `where`.
#include <string>
#include <string_view>

#include "core/json_util.h"

namespace nas {

std::string seal(std::string_view magic8, const std::string& header_text, std::string_view data);

struct SealedFile {
  json header;            // parsed (depth-limited), not yet validated
  std::string_view data;  // the payload, a view into the bytes given to open_sealed
  bool legacy_checksum = false;  // the checksum uses kFnv1a64LegacyBasis
};

// `what` completes "not <what> file" ("a tiny-model") / "expected one written by <writer>" in the bad-magic error.
SealedFile open_sealed(const std::string& bytes, std::string_view magic8, const std::string& where,
                       const std::string& what, const std::string& writer);

}  // namespace nas
