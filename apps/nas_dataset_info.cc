// nas_dataset_info: what the programs see in a data set (above all a user's image folder): its
// classes, channels, split sizes and decoded resolution, or the one-line error that every stage
// would stop with. --space-template writes a space file adapted to the data set's input channels
// and classes (how scripts/pipeline.sh gets a space for an image folder or CIFAR-100).
#include <filesystem>
#include <iostream>
#include <string>

#include "apps/cli_common.h"
#include "core/error.h"
#include "core/json_util.h"
#include "datasets/dataset_info.h"
#include "search_space/arch_space.h"

namespace {

namespace po = nas::cli::po;

constexpr const char* kProgram = "nas_dataset_info";

std::string joined(const std::vector<std::string>& names, size_t max_names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max_names; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max_names) out += ", ...";
  return out;
}

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  std::string dataset, data_dir, space_template, space_out;
  po::options_description desc("Options");
  desc.add_options()
      ("dataset", po::value(&dataset)->required(), "fashion-mnist | mnist | cifar10 | cifar100 | folder")
      ("data-dir", po::value(&data_dir), "data set directory (folder: the root holding train/<class>/ and test/<class>/)")
      ("space-template", po::value(&space_template), "a space file (ArchSpace JSON) to adapt to the data set's channels and classes")
      ("space-out", po::value(&space_out), "with --space-template: where the adapted space goes");
  nas::cli::add_common_flags(desc, common, nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "describe a data set as the programs read it", desc, vm)) return 0;
  NAS_CHECK(space_template.empty() == space_out.empty(), "--space-template and --space-out go together");

  const nas::datasets::DatasetInfo& info = nas::datasets::dataset_info(dataset, data_dir);
  const bool folder = info.name == "folder";
  std::cout << kProgram << ": " << info.name << (folder ? " " + data_dir : "") << ": " << info.num_classes
            << " classes" << (info.class_names.empty() ? "" : " (" + joined(info.class_names, 20) + ")") << ", "
            << info.channels << " channel(s), " << info.train_size << " train + " << info.test_size << " test images, "
            << info.height << "x" << info.width << (folder ? " (decoded at the space's resolution, else this)" : "")
            << "\n";
  if (!common.json_path.empty()) {
    nas::json out;
    out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
    out["dataset"] = info.name;
    out["data_dir"] = data_dir;
    out["channels"] = info.channels;
    out["resolution"] = info.height;
    out["num_classes"] = info.num_classes;
    out["class_names"] = info.class_names;
    out["train_images"] = info.train_size;
    out["test_images"] = info.test_size;
    nas::write_json_file(common.json_path, out);
  }
  if (!space_template.empty()) {
    std::error_code ec;
    NAS_CHECK(!std::filesystem::equivalent(space_template, space_out, ec),
              "--space-out " << space_out << " is the template itself: choose another file");
    nas::ArchSpace space = nas::read_space_file(space_template);
    space.in_channels = static_cast<int>(info.channels);
    space.num_classes = static_cast<int>(info.num_classes);
    space.validate(space_template);
    nas::write_json_file(space_out, space.to_json());
    std::cout << kProgram << ": " << space_out << ": " << space_template << " for " << info.channels
              << " channel(s) and " << info.num_classes << " classes\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
