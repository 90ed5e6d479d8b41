#pragma once
// Moved to cli/cli_common.h (issue 31). This forward keeps branches written before the move
// building until they are merged; include "cli/cli_common.h" in new code.
#include "cli/cli_common.h"
