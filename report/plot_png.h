#pragma once
// The PNG plot of a report, drawn by the installed plot_report.py (torch-free; docs/DESIGN.md, "report/").
#include <string>

namespace nas::report {

// The PNG, drawn by PYTHON scripts/plot_report.py REPORT_JSON PARETO_JSON OUT_PNG (matplotlib).
// The script is found in the installed data directory (core/data_dir.h: $NAS_DATA_DIR, else
// <prefix>/share/shiftaddaug-nas/); PYTHON is $NAS_PYTHON, else /usr/bin/python3.
// Throws nas::Error with one line (the script's last line of output) when it cannot be drawn.
void render_png(const std::string& report_json, const std::string& pareto_json, const std::string& png);

}  // namespace nas::report
