#include "supernet/tensor_table.h"

#include <cstring>

#include "core/checked_math.h"
#include "core/error.h"

namespace nas {
namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  int64_t bytes;
};
constexpr DtypeInfo kDtypes[] = {{"float32", torch::kFloat, 4}, {"float64", torch::kDouble, 8},
                                 {"int64", torch::kLong, 8},    {"int8", torch::kChar, 1},
                                 {"uint8", torch::kByte, 1}};

}  // namespace

void append_tensor(json& table, std::string& data, const std::string& name, const torch::Tensor& tensor) {
  const torch::Tensor c = tensor.detach().to(torch::kCPU).contiguous();
  const DtypeInfo* info = nullptr;
  for (const DtypeInfo& d : kDtypes)
    if (d.type == c.scalar_type()) info = &d;
  NAS_CHECK(info, "tensor '" << name << "': dtype " << c.scalar_type() << " cannot be stored");
  const size_t nbytes = static_cast<size_t>(c.numel()) * static_cast<size_t>(info->bytes);
  table.push_back({{"name", name}, {"dtype", info->name}, {"shape", c.sizes().vec()}, {"offset", data.size()},
                   {"nbytes", nbytes}});
  if (nbytes > 0) data.append(static_cast<const char*>(c.data_ptr()), nbytes);
}

std::map<std::string, torch::Tensor> read_tensor_table(const json& table, std::string_view data,
                                                       const std::string& where) {
  NAS_CHECK(table.is_array() && table.size() <= kMaxTableTensors,
            where << ": field 'tensors' must be an array of at most " << kMaxTableTensors << " entries");
  std::map<std::string, torch::Tensor> out;
  for (size_t i = 0; i < table.size(); ++i) {
    const json& e = table[i];
    const std::string entry = where + ": tensors[" + std::to_string(i) + "]";
    const std::string name = json_string(e, "name", entry);
    const std::string w = where + ": tensor " + quoted_excerpt(name);
    const std::string dtype = json_string(e, "dtype", w);
    const DtypeInfo* info = nullptr;
    for (const DtypeInfo& d : kDtypes)
      if (dtype == d.name) info = &d;
    NAS_CHECK(info, w << ": unknown dtype " << quoted_excerpt(dtype) << " (accepted: float32, float64, int64, int8, uint8)");
    const int64_t offset = json_int(e, "offset", w);
    const int64_t nbytes = json_int(e, "nbytes", w);
    NAS_CHECK(e.contains("shape") && e["shape"].is_array() &&
                  static_cast<int64_t>(e["shape"].size()) <= kMaxTensorDims,
              w << ": field 'shape' must be an array of at most " << kMaxTensorDims << " sizes");
    std::vector<int64_t> shape;
    int64_t numel = 1;
    for (const json& d : e["shape"]) {
      NAS_CHECK(d.is_number_integer() &&
                    (d.is_number_unsigned() ? d.get<uint64_t>() <= (uint64_t{1} << 62) : d.get<int64_t>() >= 0),
                w << ": a size of field 'shape' is not an integer >= 0");
      shape.push_back(d.get<int64_t>());
      const std::optional<int64_t> product = checked_mul(numel, shape.back());
      NAS_CHECK(product && *product <= kMaxTensorElements,
                w << ": more than " << kMaxTensorElements << " elements");
      numel = *product;
    }
    NAS_CHECK(nbytes == numel * info->bytes && offset >= 0 && nbytes >= 0 &&
                  static_cast<uint64_t>(offset) <= data.size() &&
                  static_cast<uint64_t>(nbytes) <= data.size() - static_cast<uint64_t>(offset),
              w << ": its bytes lie outside the data section (or do not match its shape)");
    NAS_CHECK(!out.count(name), w << " appears twice");
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(info->type));
    if (nbytes > 0) std::memcpy(t.data_ptr(), data.data() + offset, static_cast<size_t>(nbytes));
    out.emplace(name, std::move(t));
  }
  return out;
}

}  // namespace nas
