// nas_make_image_folder ROOT [CLASSES TRAIN_PER_CLASS TEST_PER_CLASS CHANNELS]: writes a small
// image folder (tests/image_folder_fixture.h) for the CLI tests of --dataset folder.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "tests/image_folder_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 6) {
    std::fprintf(stderr, "usage: nas_make_image_folder ROOT [CLASSES TRAIN_PER_CLASS TEST_PER_CLASS CHANNELS]\n");
    return 2;
  }
  nas::test::ImageFolderSpec spec;
  if (argc == 6) {
    spec.classes = std::atoi(argv[2]);
    spec.train_per_class = std::atoi(argv[3]);
    spec.test_per_class = std::atoi(argv[4]);
    spec.channels = std::atoi(argv[5]);
  }
  if (spec.classes < 1 || spec.classes > 100 || spec.train_per_class < 1 || spec.train_per_class > 10000 ||
      spec.test_per_class < 0 || spec.test_per_class > 10000 || (spec.channels != 1 && spec.channels != 3)) {
    std::fprintf(stderr, "nas_make_image_folder: error: sizes out of range\n");
    return 2;
  }
  try {
    nas::test::write_image_folder(argv[1], spec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nas_make_image_folder: error: %s\n", e.what());
    return 1;
  }
  std::printf("nas_make_image_folder: %s: %d classes, %d + %d images each, %d channel(s)\n", argv[1], spec.classes,
              spec.train_per_class, spec.test_per_class, spec.channels);
  return 0;
}
