#include "datasets/idx_reader.h"

#include <cstdio>
#include <utility>

#include "core/error.h"
#include "datasets/byte_reader.h"

namespace nas::datasets {

namespace {

uint32_t read_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

const char* idx_type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return nullptr;
  }
}

}  // namespace

IdxArray parse_idx(std::vector<uint8_t> bytes, const std::string& path,
                   int64_t expected_ndims) {
  NAS_CHECK(bytes.size() >= 4, path << ": truncated IDX file: " << bytes.size()
                                    << " bytes, shorter than the 4-byte magic number");
  const uint8_t type = bytes[2];
  const uint8_t ndims = bytes[3];
  const char* type_name = idx_type_name(type);
  if (bytes[0] != 0 || bytes[1] != 0 || type_name == nullptr || ndims == 0) {
    char magic[16];
    std::snprintf(magic, sizeof(magic), "%02x %02x %02x %02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    NAS_THROW(path << ": not an IDX file: wrong magic number " << magic
                   << " (expected 00 00 08 <ndims>)");
  }
  NAS_CHECK(type == 0x08, path << ": unsupported IDX element type 0x" << std::hex << int(type)
                               << std::dec << " (" << type_name
                               << "); only unsigned byte (0x08) is supported");
  if (expected_ndims > 0) {
    NAS_CHECK(ndims == expected_ndims, path << ": IDX file has " << int(ndims)
                                            << " dimensions, expected " << expected_ndims
                                            << (expected_ndims == 1 ? " (a labels file)"
                                                                    : " (an images file)"));
  }
  // MNIST-family files have 1 (labels) or 3 (images) dimensions; a few more are tolerated.
  NAS_CHECK(ndims >= 1 && ndims <= kMaxIdxDims, path << ": IDX file has " << int(ndims) << " dimensions (accepted: 1.."
                                                    << kMaxIdxDims << ")");
  const size_t header = 4 + 4 * size_t(ndims);
  NAS_CHECK(bytes.size() >= header, path << ": truncated IDX file: " << bytes.size()
                                         << " bytes, the header alone needs " << header);
  IdxArray array;
  uint64_t count = 1;
  for (size_t d = 0; d < ndims; ++d) {
    const uint32_t n = read_be32(bytes.data() + 4 + 4 * d);
    array.dims.push_back(n);
    // Saturate instead of overflowing: any count beyond the file size is reported as truncated.
    count = (n != 0 && count > (uint64_t(1) << 48) / n) ? (uint64_t(1) << 48) : count * n;
  }
  const uint64_t available = bytes.size() - header;
  auto shape = [&] {
    std::string s;
    for (size_t d = 0; d < array.dims.size(); ++d) s += (d ? " x " : "") + std::to_string(array.dims[d]);
    return s;
  };
  NAS_CHECK(available >= count, path << ": truncated IDX file: header says " << shape() << " = "
                                     << count << " bytes of data, only " << available
                                     << " present");
  NAS_CHECK(available == count, path << ": size mismatch: header says " << shape() << " = " << count
                                     << " bytes of data, but the file has " << (available - count)
                                     << " extra bytes");
  // Drop the header in place: no second copy of a large image file.
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  array.data = std::move(bytes);
  return array;
}

IdxArray read_idx(const std::string& path, int64_t expected_ndims) {
  return parse_idx(read_maybe_gzip(path), path, expected_ndims);
}

Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         const std::string& name, int64_t num_classes) {
  IdxArray images = read_idx(images_path, 3);
  IdxArray labels = read_idx(labels_path, 1);
  const int64_t n = images.dims[0];
  NAS_CHECK(n > 0, images_path << ": contains no images");
  NAS_CHECK(images.dims[1] > 0 && images.dims[2] > 0,
            images_path << ": invalid image size " << images.dims[1] << "x" << images.dims[2]);
  NAS_CHECK(labels.dims[0] == n, labels_path << ": size mismatch: " << labels.dims[0]
                                             << " labels for " << n << " images in "
                                             << images_path);
  std::vector<int64_t> label_values(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    NAS_CHECK(labels.data[i] < num_classes, labels_path << ": label " << int(labels.data[i])
                                                        << " at index " << i
                                                        << " is out of range [0, " << num_classes
                                                        << ")");
    label_values[i] = labels.data[i];
  }
  return Dataset(name, 1, images.dims[1], images.dims[2], num_classes, std::move(images.data),
                 std::move(label_values));
}

}  // namespace nas::datasets
