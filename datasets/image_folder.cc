#include "datasets/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "core/checked_math.h"
#include "core/error.h"
#include "datasets/byte_reader.h"
#include "datasets/image_decoder.h"
#include "datasets/image_resize.h"

namespace nas::datasets {

namespace fs = std::filesystem;

namespace {

bool is_hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Printable UTF-8 (class names go into JSON files and messages): no control characters, no
// malformed or overlong sequences.
bool is_printable_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    const int extra = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) return false;
    uint32_t code = c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    if ((extra == 1 && code < 0xA0) || (extra == 2 && code < 0x800) || (extra == 3 && (code < 0x10000 || code > 0x10FFFF)) ||
        (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

// The non-hidden entries of `dir`, sorted by name; at most `max_entries` (an error beyond).
std::vector<fs::path> sorted_entries(const fs::path& dir, int64_t max_entries, const char* what) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  NAS_CHECK(!ec, dir.string() << ": cannot list: " << ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    NAS_CHECK(!ec, dir.string() << ": cannot list: " << ec.message());
    if (is_hidden(it->path())) continue;
    NAS_CHECK(static_cast<int64_t>(out.size()) < max_entries,
              dir.string() << ": more than " << max_entries << " " << what << " (the limit)");
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  return out;
}

// The images of one class folder (sorted), each checked to be a regular .png / .jpg / .jpeg file.
std::vector<fs::path> class_images(const fs::path& class_dir, int64_t max_images) {
  std::vector<fs::path> images = sorted_entries(class_dir, max_images, "images");
  for (const fs::path& p : images) {
    std::error_code ec;
    NAS_CHECK(!fs::is_directory(p, ec), p.string() << ": a folder inside a class folder (images lie directly in "
                                                   << class_dir.filename().string() << "/)");
    NAS_CHECK(fs::is_regular_file(p, ec) && has_image_extension(p),
              p.string() << ": not an image file (a class folder holds .png, .jpg or .jpeg files; hidden files are skipped)");
  }
  NAS_CHECK(!images.empty(), class_dir.string() << ": empty class folder (no .png, .jpg or .jpeg image)");
  return images;
}

// Class folder names of ROOT/train, checked.
std::vector<std::string> class_folders(const fs::path& split_dir) {
  std::vector<std::string> names;
  for (const fs::path& p : sorted_entries(split_dir, kMaxImageFolderClasses, "class folders")) {
    std::error_code ec;
    NAS_CHECK(fs::is_directory(p, ec), p.string() << ": not a class folder (" << split_dir.filename().string()
                                                  << "/ holds one folder per class)");
    const std::string name = p.filename().string();
    NAS_CHECK(name.size() <= static_cast<size_t>(kMaxClassNameBytes) && is_printable_utf8(name),
              split_dir.string() << ": a class folder name is not printable UTF-8 of at most " << kMaxClassNameBytes
                                 << " bytes");
    names.push_back(name);
  }
  NAS_CHECK(!names.empty(), split_dir.string() << ": no class folder (expected " << split_dir.filename().string()
                                               << "/<class>/<image>.png|jpg)");
  return names;
}

// Every image of a split: class by class, labels from `class_names` (a test/ class must be one).
std::vector<ImageFile> split_files(const fs::path& split_dir, const std::vector<std::string>& class_names) {
  std::vector<ImageFile> files;
  for (const std::string& name : class_folders(split_dir)) {
    const auto at = std::lower_bound(class_names.begin(), class_names.end(), name);
    NAS_CHECK(at != class_names.end() && *at == name,
              (split_dir / name).string() << ": class '" << name << "' is not a class of train/ (its "
                                          << class_names.size() << " classes are the folders of train/)");
    const int64_t label = at - class_names.begin();
    const int64_t room = kMaxImageFolderImages - static_cast<int64_t>(files.size());
    NAS_CHECK(room > 0, split_dir.string() << ": more than " << kMaxImageFolderImages << " images (the limit)");
    for (const fs::path& p : class_images(split_dir / name, room)) files.push_back({p.string(), label});
  }
  return files;
}

std::vector<uint8_t> read_image_file(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  NAS_CHECK(!ec, path << ": cannot read: " << ec.message());
  NAS_CHECK(size <= static_cast<uintmax_t>(kMaxImageFileBytes),
            path << ": " << size << " bytes, over the limit of " << (kMaxImageFileBytes >> 20) << " MiB per image");
  return read_file_bytes(path);
}

// Runs body(i) for i in [0, n) on every core; the first error in index order is rethrown (as
// one line), so that the message does not depend on the thread schedule.
template <typename Body>
void parallel_over_files(int64_t n, const Body& body) {
  std::vector<std::optional<std::string>> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic, 8)
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (const Error& e) {
      errors[static_cast<size_t>(i)] = e.message();
    } catch (const std::exception& e) {
      errors[static_cast<size_t>(i)] = first_line_excerpt(e.what());
    }
  }
  for (const auto& e : errors)
    if (e) NAS_THROW(*e);
}

const char* kind_name(int64_t channels) { return channels == 1 ? "greyscale" : "colour"; }

// 1 or 3: the channels of every training image (their headers); mixed content is an error.
int64_t decide_channels(const std::vector<ImageFile>& files, const std::string& root) {
  std::vector<int64_t> channels(files.size());
  parallel_over_files(static_cast<int64_t>(files.size()), [&](int64_t i) {
    const std::string& path = files[static_cast<size_t>(i)].path;
    channels[static_cast<size_t>(i)] = read_image_header(read_image_file(path), path).channels;
  });
  const auto grey = std::find(channels.begin(), channels.end(), 1);
  const auto colour = std::find(channels.begin(), channels.end(), 3);
  NAS_CHECK(grey == channels.end() || colour == channels.end(),
            root << ": mixed greyscale and colour images (" << files[static_cast<size_t>(grey - channels.begin())].path
                 << " is greyscale, " << files[static_cast<size_t>(colour - channels.begin())].path
                 << " colour): convert them to one kind");
  return grey != channels.end() ? 1 : 3;
}

DatasetInfo folder_info(const ImageFolder& f) {
  DatasetInfo info;
  info.name = "folder";
  info.channels = f.channels;
  info.height = info.width = kImageFolderResolution;
  info.num_classes = static_cast<int64_t>(f.class_names.size());
  info.train_size = static_cast<int64_t>(f.train.size());
  info.test_size = static_cast<int64_t>(f.test.size());
  info.class_names = f.class_names;
  return info;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::unique_ptr<const ImageFolder>>& registry() {
  static std::map<std::string, std::unique_ptr<const ImageFolder>> folders;
  return folders;
}
const ImageFolder*& last_opened() {
  static const ImageFolder* last = nullptr;
  return last;
}

}  // namespace

ImageFolder scan_image_folder(const std::string& root) {
  NAS_CHECK(!root.empty(), "folder: no image folder given (its root holds train/<class>/ and test/<class>/)");
  std::error_code ec;
  NAS_CHECK(fs::is_directory(root, ec), root << ": image folder not found");
  const fs::path train_dir = fs::path(root) / "train";
  NAS_CHECK(fs::is_directory(train_dir, ec),
            root << ": no train/ folder (an image folder holds train/<class>/<image> and test/<class>/<image>)");
  ImageFolder f;
  f.root = root;
  f.class_names = class_folders(train_dir);
  f.train = split_files(train_dir, f.class_names);
  const fs::path test_dir = fs::path(root) / "test";
  f.has_test = fs::exists(test_dir, ec);
  if (f.has_test) {
    NAS_CHECK(fs::is_directory(test_dir, ec), test_dir.string() << ": not a folder");
    f.test = split_files(test_dir, f.class_names);
  }
  f.channels = decide_channels(f.train, root);
  f.info = folder_info(f);
  return f;
}

const ImageFolder& open_image_folder(const std::string& root) {
  NAS_CHECK(!root.empty(), "folder: no image folder given (its root holds train/<class>/ and test/<class>/)");
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(root, ec), ec);
  const std::string key = ec ? root : canonical.string();
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& folders = registry();
  auto at = folders.find(key);
  if (at == folders.end()) at = folders.emplace(key, std::make_unique<const ImageFolder>(scan_image_folder(root))).first;
  last_opened() = at->second.get();
  return *at->second;
}

const ImageFolder* last_opened_image_folder() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return last_opened();
}

Dataset read_image_folder(const ImageFolder& folder, Split split, int64_t resolution, int64_t limit,
                          SubsetMode subset) {
  if (resolution == 0) resolution = kImageFolderResolution;
  NAS_CHECK(resolution >= 1 && resolution <= 4096, "folder: resolution must be in [1, 4096], got " << resolution);
  NAS_CHECK(split == Split::Train || folder.has_test,
            (fs::path(folder.root) / "test").string() << ": no such folder (the image folder's test split)");
  const std::vector<ImageFile>& all = split == Split::Train ? folder.train : folder.test;
  std::vector<int64_t> labels(all.size());
  for (size_t i = 0; i < all.size(); ++i) labels[i] = all[i].label;
  const auto n_all = static_cast<int64_t>(all.size());
  const int64_t num_classes = static_cast<int64_t>(folder.class_names.size());
  std::vector<int64_t> chosen;
  if (limit > 0 && limit < n_all && subset == SubsetMode::Balanced) {
    chosen = balanced_indices(labels, num_classes, limit);
  } else {
    chosen.resize(static_cast<size_t>(limit > 0 ? std::min(limit, n_all) : n_all));
    for (size_t i = 0; i < chosen.size(); ++i) chosen[i] = static_cast<int64_t>(i);
  }
  const auto n = static_cast<int64_t>(chosen.size());
  const int64_t c = folder.channels;
  const std::optional<int64_t> bytes = checked_product({n, c, resolution, resolution});
  NAS_CHECK(bytes && *bytes <= kMaxImageFolderBytes,
            folder.root << ": " << n << " images of " << c << "x" << resolution << "x" << resolution
                        << " take more than the limit of " << (kMaxImageFolderBytes >> 30)
                        << " GiB in memory: use fewer images (limit) or a lower resolution");
  std::vector<uint8_t> pixels(static_cast<size_t>(*bytes));
  std::vector<int64_t> out_labels(static_cast<size_t>(n));
  const int64_t image_bytes = c * resolution * resolution;
  parallel_over_files(n, [&](int64_t i) {
    const ImageFile& file = all[static_cast<size_t>(chosen[static_cast<size_t>(i)])];
    const DecodedImage image = decode_image(read_image_file(file.path), file.path);
    NAS_CHECK(image.channels == c, file.path << " is " << kind_name(image.channels) << ", the training images are "
                                             << kind_name(c) << ": convert them to one kind");
    resize_area_planar(image, resolution, resolution, pixels.data() + i * image_bytes);
    out_labels[static_cast<size_t>(i)] = file.label;
  });
  return Dataset("folder", c, resolution, resolution, num_classes, std::move(pixels), std::move(out_labels));
}

}  // namespace nas::datasets
