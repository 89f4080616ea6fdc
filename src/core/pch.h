// pch.h — the one precompiled header of codebind_core (and, via REUSE_FROM, of the
// executables). Only heavy, stable third-party headers belong here.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
