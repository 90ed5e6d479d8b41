#pragma once
// Image-folder data sets: a user's own images in the layout torchvision's ImageFolder made the
// convention,
//   ROOT/train/<class>/*.png|*.jpg|*.jpeg      ROOT/test/<class>/...
// decoded with libpng / libjpeg-turbo (datasets/image_decoder.h) and resized by area resampling
// (datasets/image_resize.h) to one resolution (the space's; kImageFolderResolution by default).
//
// - Classes: the folders of ROOT/train, sorted by name (byte order); label i is class_names[i].
//   ROOT/test may hold fewer classes, never one that train/ lacks.
// - Images: the files of each class folder in name order; the content decides PNG or JPEG.
//   Names starting with '.' (hidden files and folders) are skipped; anything else is an error.
// - Channels: 1 when every training image is greyscale, 3 when every one is colour; mixed content
//   is an error naming one file of each kind (convert them to one kind first).
// - One clear error line each for: a missing train/ folder, an empty class folder, a file that is
//   not a .png / .jpg / .jpeg image (or whose content is neither), a folder inside a class folder,
//   a test/ class not in train/, a class name that is not printable UTF-8, a corrupt image.
// - Bounds (untrusted files): classes, images per split, bytes per file, pixels per image, and
//   the decoded data set's memory (kMaxImageFolderBytes).
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/dataset_info.h"
#include "datasets/dataset_split.h"

namespace nas::datasets {

constexpr int64_t kImageFolderResolution = 32;           // decoded size when none is asked for
constexpr int64_t kMaxImageFolderClasses = 10000;
constexpr int64_t kMaxImageFolderImages = 2000000;       // per split
constexpr int64_t kMaxImageFileBytes = int64_t{64} << 20;
constexpr int64_t kMaxClassNameBytes = 255;
constexpr int64_t kMaxImageFolderBytes = int64_t{8} << 30;  // a decoded split in memory

struct ImageFile {
  std::string path;
  int64_t label = 0;
};

struct ImageFolder {
  std::string root;                      // as given
  std::vector<std::string> class_names;  // sorted; label i = class_names[i]
  std::vector<ImageFile> train, test;    // class by class, files in name order
  bool has_test = false;                 // ROOT/test exists
  int64_t channels = 0;                  // 1 or 3, from the training images' headers
  // name "folder", channels, kImageFolderResolution, classes, split sizes, class_names; no fixed
  // normalisation (the loader measures the training split) and no default augmentation (a
  // horizontal flip does not keep every user's labels).
  DatasetInfo info;
};

// Lists ROOT/train and ROOT/test and reads every training image's header (channels, size).
ImageFolder scan_image_folder(const std::string& root);

// scan_image_folder, once per process and folder (by canonical path): every stage of a program
// asks for the folder's shape and classes before it loads the images. The folder opened last is
// the one dataset_info("folder") describes.
const ImageFolder& open_image_folder(const std::string& root);
// The folder opened last in this process; null before any.
const ImageFolder* last_opened_image_folder();

// Split `split` decoded at resolution x resolution (0: kImageFolderResolution) as a Dataset named
// "folder". limit > 0 keeps `limit` images chosen by `subset` before anything is decoded.
Dataset read_image_folder(const ImageFolder& folder, Split split, int64_t resolution, int64_t limit = 0,
                          SubsetMode subset = SubsetMode::Balanced);

}  // namespace nas::datasets
