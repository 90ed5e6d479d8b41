#pragma once
// The installed data directory: files the programs read at run time that are not inputs of a run
// (the plot script). Never found relative to the source or build tree: `cmake --install` puts
// them in <prefix>/share/shiftaddaug-nas/ and the build tree gets the same layout at build time
// (<build>/share/shiftaddaug-nas/), so a program finds them beside its own bin/ (or apps/) folder
// wherever the tree was built or installed (docs/DESIGN.md, "Install").
#include <string>

namespace nas {

// The data directory's name under <prefix>/share.
constexpr const char* kDataDirName = "shiftaddaug-nas";

// The path of data file `name`, from the first of:
//   $NAS_DATA_DIR (it must hold the file: an error otherwise; $NAS_SCRIPTS_DIR is its older name),
//   <folder of this executable>/../share/shiftaddaug-nas,
//   the install prefix's share/shiftaddaug-nas compiled in (CMAKE_INSTALL_FULL_DATADIR).
// Throws nas::Error with one line naming the places looked in when none holds it.
std::string find_data_file(const std::string& name);

}  // namespace nas
